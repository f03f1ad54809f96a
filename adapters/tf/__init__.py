"""`kbridge.adapters.tf`: the TensorFlow side of kbridge (its backend lives in `backend/`)."""
