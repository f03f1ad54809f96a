"""The fused path of `LSTM` and `GRU`: a backend's whole-sequence kernel when it computes
exactly what the cell loop would.

A backend may define `fused_lstm(inputs, h, c, kernel, recurrent_kernel, bias, go_backwards)`
and `fused_gru(inputs, h, kernel, recurrent_kernel, bias, go_backwards)` (Keras weight layouts;
both return `(outputs, final_states)` with the outputs of every step in processing order).
The torch backend maps them onto `torch.lstm` / `torch.gru`. The layer uses them only for
the configuration those kernels implement: tanh and sigmoid activations, no active
dropout, no mask, no unrolling, (GRU) `reset_after=True`, and `use_cudnn` not False.
"""

from kbridge import activations
from kbridge.backend import hooks


def fused_loop(layer, sequences, flat_states, mask, training):
    """`(last_output, outputs, final_states)` from the backend's fused kernel, or None."""
    cell = layer.cell
    kind = getattr(cell, "_FUSED_KIND", None)
    if kind is None or mask is not None or layer.unroll or getattr(layer, "use_cudnn", "auto") is False:
        return None
    kernel_fn = hooks.fused(f"fused_{kind}")
    if kernel_fn is None:
        return None
    if cell.activation is not activations.get("tanh") or cell.recurrent_activation is not activations.get("sigmoid"):
        return None
    if training and (cell.dropout or cell.recurrent_dropout):
        return None
    if kind == "gru" and not cell.reset_after:
        return None
    bias = None if cell.bias is None else cell._weight(cell.bias)
    weights = (cell._weight(cell.kernel), cell._weight(cell.recurrent_kernel), bias)
    outputs, final_states = kernel_fn(sequences, *flat_states, *weights, layer.go_backwards)
    last = outputs[:, -1]
    return last, (outputs if layer.return_sequences else None), list(final_states)



