"""How adapters' `forward(*inputs)` / `apply(params, state, *inputs)` map onto a model call."""


def pack_inputs(model, inputs):
    """Returns the positional call arguments for `model` given an adapter's `*inputs`.

    A Functional model with several inputs takes them as one list in Keras; native code
    naturally passes them positionally (`module(x1, x2)`), so exactly that many
    positional tensors are packed into a list. Everything else is passed unchanged
    (the layer's own checks name what is wrong).

    Raises:
        TypeError: no input was given.
    """
    if not inputs:
        raise TypeError(f'Model "{model.name}" needs its input(s); received none.')
    if len(inputs) > 1:
        graph_inputs = getattr(model, "_inputs", None)
        if graph_inputs is not None and len(graph_inputs) == len(inputs):
            return (list(inputs),)
    return inputs
