"""PyTorch backend: `ops.image` (resize, affine_transform), the shared implementation
`kbridge.backend.image_impl` run over this backend's own ops (Keras 3's JAX numerics)."""

from kbridge.backend import image_impl

resize, affine_transform = image_impl.ops_for(__package__)
