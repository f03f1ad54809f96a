"""`kbridge.value_and_grad`: one gradient function for every backend.

A neutral `train_step` calls it; the backend of the variables supplies the
mechanism (torch autograd, tf.GradientTape, jax.value_and_grad over a stateless
scope) in `kbridge.adapters.<fw>.trainer`.
"""

from kbridge.backend import registry


def value_and_grad(fn, variables, has_aux=False):
    """Returns a function computing `fn(*args)` and its gradients w.r.t. `variables`.

    Args:
        fn: a function of any arguments returning a scalar loss, or
            `(loss, aux)` when `has_aux`. It reads the variables (e.g. by calling
            the model); variable assignments it makes (BatchNormalization
            statistics, seeds) take effect as usual.
        variables: the `kbridge.Variable`s to differentiate with respect to.
        has_aux: whether `fn` returns `(loss, aux)`.

    Returns:
        A function returning `(loss, grads)` or `((loss, aux), grads)`, with
        `grads` a list aligned with `variables` (None where a variable is unused).
        The returned loss and aux are detached from any autodiff graph.
    """
    variables = list(variables)
    if not variables:
        raise ValueError("value_and_grad: `variables` is empty; pass the variables to differentiate.")
    backends = {v._backend.NAME for v in variables}
    if len(backends) != 1:
        raise ValueError(f"value_and_grad: the variables live on several backends {sorted(backends)}; move the model first.")
    name = backends.pop()
    hooks = _HOOKS.get(name)
    if hooks is None:
        # Cached: an import inside a compiled step would break the graph every step.
        hooks = _HOOKS[name] = registry.adapter_module(name, "trainer")
    return hooks.value_and_grad(fn, variables, has_aux)


_HOOKS = {}
