"""`kbridge.adapters.numpy`: the NumPy backend (inference and reference values, no gradients)."""
