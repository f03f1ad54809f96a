"""Whole-sequence LSTM/GRU kernels (`torch.lstm`, `torch.gru`) for `LSTM`/`GRU` layers.

Optional backend functions (see `kbridge/layers/rnn/_fused.py` for when a layer uses them).
Keras keeps `kernel` as `(input_dim, gates * units)` and `recurrent_kernel` as
`(units, gates * units)`; torch wants `(gates * units, input_dim)`. LSTM gates are in the same
order in both (i, f, c, o). GRU gates are (z, r, h) in Keras and (r, z, n) in torch, and
Keras's `reset_after=True` bias is `(2, 3 * units)`: the input and the recurrent bias.
"""

import torch


def _flip(x, go_backwards):
    return x.flip(1) if go_backwards else x


def fused_lstm(inputs, h, c, kernel, recurrent_kernel, bias, go_backwards):
    """LSTM over `(batch, time, features)`; returns (outputs in processing order, [h, c])."""
    weights = [kernel.t(), recurrent_kernel.t()]
    if bias is not None:
        weights += [bias, torch.zeros_like(bias)]
    outputs, h_n, c_n = torch.lstm(
        _flip(inputs, go_backwards), (h[None], c[None]), weights, bias is not None, 1, 0.0, False, False, True
    )
    return outputs, [h_n[0], c_n[0]]


def _gru_order(weight, units):
    """Keras (z, r, h) gate blocks along the last axis -> torch (r, z, n)."""
    z, r, n = weight[..., :units], weight[..., units : 2 * units], weight[..., 2 * units :]
    return torch.cat([r, z, n], dim=-1)


def fused_gru(inputs, h, kernel, recurrent_kernel, bias, go_backwards):
    """GRU (`reset_after=True`) over `(batch, time, features)`; returns (outputs, [h])."""
    units = recurrent_kernel.shape[0]
    weights = [_gru_order(kernel, units).t(), _gru_order(recurrent_kernel, units).t()]
    if bias is not None:
        weights += [_gru_order(bias[0], units), _gru_order(bias[1], units)]
    outputs, h_n = torch.gru(_flip(inputs, go_backwards), h[None], weights, bias is not None, 1, 0.0, False, False, True)
    return outputs, [h_n[0]]
