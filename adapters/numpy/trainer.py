"""Training hooks for the NumPy backend: inference only."""


def value_and_grad(fn, variables, has_aux=False):
    """NumPy has no autodiff: always raises."""
    raise NotImplementedError(
        "The numpy backend cannot compute gradients. Move the model to a training backend first, "
        'e.g. model.to_backend("jax"), "torch" or "tensorflow".'
    )


def make_step(step_fn, state_variables, jit_compile=False, donate=False, kind="train"):
    """Returns `step_fn` unchanged (plain NumPy execution)."""
    return step_fn
