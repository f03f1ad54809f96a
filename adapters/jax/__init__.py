"""`kbridge.adapters.jax`: kbridge models as JAX functions and pytrees (the backend is in `.backend`)."""
