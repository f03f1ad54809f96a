"""Symbolic backend: `kbridge.ops.image` (resize, affine_transform)."""

from kbridge.backend import image_impl
from kbridge.symbolic._infer import floating, out, spec


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
    """Spatial sizes become `size`; non-"nearest" modes give floats (ints -> `floatx()`)."""
    size = image_impl.check_resize_args(
        interpolation, antialias, crop_to_aspect_ratio, pad_to_aspect_ratio, fill_mode, size
    )
    x = spec(images)
    shape = image_impl.resize_output_shape(x.shape, size, image_impl.data_format_arg(data_format, "resize"))
    return out(shape, x.dtype if interpolation == "nearest" else floating(x.dtype))


def affine_transform(images, transform, interpolation="bilinear", fill_mode="constant", fill_value=0, data_format=None):
    """Same shape and dtype as `images`."""
    image_impl.data_format_arg(data_format, "affine_transform")
    x, t = spec(images), spec(transform)
    if len(x.shape) not in (3, 4) or len(t.shape) not in (1, 2):
        raise ValueError(
            "affine_transform: expected images of rank 3 or 4 and a transform of rank 1 or 2. "
            f"Received: images.shape={x.shape}, transform.shape={t.shape}"
        )
    return out(x.shape, x.dtype)
