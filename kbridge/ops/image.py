"""Image ops: resizing and affine warps (Keras 3 `keras.ops.image`).

Each op forwards to the active backend (DESIGN.md invariant 3); every backend runs the
shared implementation in `kbridge.backend.image_impl`, whose numerics follow Keras 3's
JAX backend (half-pixel centres, no antialiasing).
"""

from kbridge.backend._state import state as _state

__all__ = ["resize", "affine_transform"]


def resize(
    images,
    size,
    interpolation="bilinear",
    antialias=False,
    crop_to_aspect_ratio=False,
    pad_to_aspect_ratio=False,
    fill_mode="constant",
    fill_value=0.0,
    data_format=None,
):
    """Resizes images (rank 3 or 4) to `size = (height, width)`.

    Args:
        images: one image or a batch of images.
        size: (height, width), positive ints.
        interpolation: "bilinear", "nearest", "bicubic", "lanczos3" or "lanczos5".
        antialias: only False is implemented (NotImplementedError otherwise).
        crop_to_aspect_ratio: crop the centre to the target aspect ratio first.
        pad_to_aspect_ratio: pad with `fill_value` to the target aspect ratio first.
        fill_mode: "constant" (the only mode, as in Keras).
        fill_value: the padding value.
        data_format: "channels_last" or "channels_first" (None: `image_data_format()`).

    Returns:
        The resized images; integer inputs give `floatx()` except with "nearest".
    """
    return _state.ops.resize(
        images,
        size,
        interpolation=interpolation,
        antialias=antialias,
        crop_to_aspect_ratio=crop_to_aspect_ratio,
        pad_to_aspect_ratio=pad_to_aspect_ratio,
        fill_mode=fill_mode,
        fill_value=fill_value,
        data_format=data_format,
    )


def affine_transform(images, transform, interpolation="bilinear", fill_mode="constant", fill_value=0, data_format=None):
    """Warps images by affine transforms `[a0, a1, a2, b0, b1, b2, c0, c1]`.

    Output pixel (x, y) samples the input at `(a0*x + a1*y + a2, b0*x + b1*y + b2)`.

    Args:
        images: one image or a batch of images.
        transform: shape (8,) or (batch, 8).
        interpolation: "bilinear" or "nearest".
        fill_mode: "constant", "nearest", "wrap", "mirror" or "reflect" (points outside the input).
        fill_value: the value of outside points with "constant".
        data_format: "channels_last" or "channels_first" (None: `image_data_format()`).

    Returns:
        The warped images, same shape and dtype.
    """
    return _state.ops.affine_transform(
        images, transform, interpolation=interpolation, fill_mode=fill_mode, fill_value=fill_value,
        data_format=data_format,
    )
