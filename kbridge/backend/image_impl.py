"""`ops.image.resize` and `ops.image.affine_transform`, written once over a backend's own ops.

Every backend's `image.py` calls these functions with its backend module `B` (the
contract ops: `B.take`, `B.tensordot`, `B.where`, ...), so the four backends compute the
same sums in the same order. The numerics follow Keras 3's JAX backend (the reference):
`jax.image.resize` without antialiasing (half-pixel centres, kernel weights normalized
per output pixel) and `jax.scipy.ndimage.map_coordinates` for the affine sampling.
Resampling weights depend only on static sizes, so they are built here in NumPy.
"""

import numpy as np

from kbridge import config
from kbridge.backend.dtypes import standardize_dtype

RESIZE_INTERPOLATIONS = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic")
AFFINE_INTERPOLATIONS = ("nearest", "bilinear")
AFFINE_FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")
_FORMATS = ("channels_last", "channels_first")


def data_format_arg(data_format, op):
    data_format = config.image_data_format() if data_format is None else data_format
    if data_format not in _FORMATS:
        raise ValueError(f"{op}: data_format must be one of {_FORMATS}. Received: data_format={data_format!r}")
    return data_format


def _static_size(value, op, what):
    if not isinstance(value, (int, np.integer)):
        raise ValueError(f"{op}: the {what} must be known (a static shape) to build the resampling weights.")
    return int(value)


# -- resize weights ---------------------------------------------------------------------------------


def _triangle(x):
    return np.maximum(0.0, 1.0 - x)


def _keys_cubic(x):
    # Keys cubic convolution with a = -0.5 (what "bicubic" means in jax.image.resize).
    near = ((1.5 * x - 2.5) * x) * x + 1.0
    far = ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
    return np.where(x >= 2.0, 0.0, np.where(x >= 1.0, far, near))


def _lanczos(radius):
    def kernel(x):
        y = radius * np.sin(np.pi * x) * np.sin(np.pi * x / radius)
        safe = np.where(x != 0, np.pi**2 * x**2, 1.0)
        value = np.where(x > 1e-3, y / safe, 1.0)
        return np.where(x > radius, 0.0, value)

    return kernel


_KERNELS = {"bilinear": _triangle, "bicubic": _keys_cubic, "lanczos3": _lanczos(3), "lanczos5": _lanczos(5)}


def resize_weights(in_size, out_size, interpolation):
    """The `(out_size, in_size)` float64 matrix that resamples one axis (no antialias).

    Output pixel `i` is centred on input coordinate `(i + 0.5) * in / out - 0.5`; the kernel
    weights are normalized per output pixel, so the image edge is effectively clamped.
    """
    sample = (np.arange(out_size) + 0.5) * (in_size / out_size) - 0.5
    weights = _KERNELS[interpolation](np.abs(sample[:, None] - np.arange(in_size)[None, :]))
    total = weights.sum(axis=1, keepdims=True)
    ok = np.abs(total) > 1000.0 * float(np.finfo(np.float32).eps)
    return np.where(ok, weights / np.where(total != 0, total, 1.0), 0.0)


def nearest_indices(in_size, out_size):
    """Input index of each output pixel: `floor((i + 0.5) * in / out)` in float32, as JAX computes it."""
    centres = (np.arange(out_size, dtype=np.float32) + np.float32(0.5)) * np.float32(in_size)
    return np.floor(centres / np.float32(out_size)).astype(np.int32)


# -- resize -----------------------------------------------------------------------------------------


def check_resize_args(interpolation, antialias, crop, pad, fill_mode, size):
    if interpolation not in RESIZE_INTERPOLATIONS:
        raise ValueError(
            f"resize: invalid value for argument `interpolation`. Expected one of {RESIZE_INTERPOLATIONS}. "
            f"Received: interpolation={interpolation!r}"
        )
    if antialias:
        raise NotImplementedError("resize: antialias=True is not implemented in kbridge; pass antialias=False.")
    if fill_mode != "constant":
        raise ValueError(f"resize: only fill_mode='constant' is supported. Received: fill_mode={fill_mode!r}")
    if crop and pad:
        raise ValueError("resize: only one of `pad_to_aspect_ratio` and `crop_to_aspect_ratio` can be True.")
    if isinstance(size, (str, bytes)) or not hasattr(size, "__len__") or len(size) != 2:
        raise ValueError(f"resize: `size` must be a tuple of two elements (height, width). Received: size={size}")
    size = tuple(size)
    if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s > 0 for s in size):
        raise ValueError(f"resize: `size` must be two positive ints. Received: size={size}")
    return tuple(int(s) for s in size)


def resize_output_shape(shape, size, data_format):
    """The output shape of `resize` for an input of `shape` (rank 3 or 4)."""
    shape = tuple(shape)
    if len(shape) not in (3, 4):
        raise ValueError(
            "resize: invalid images rank: expected rank 3 (single image) or rank 4 (batch of images). "
            f"Received input with shape: images.shape={shape}"
        )
    h_axis = len(shape) - (3 if data_format == "channels_last" else 2)
    out = list(shape)
    out[h_axis], out[h_axis + 1] = size
    return tuple(out)


def _aspect_crop(x, height, width, size, h_axis):
    target_h, target_w = size
    crop_h = max(min(height, int(float(width * target_h) / target_w)), 1)
    crop_w = max(min(width, int(float(height * target_w) / target_h)), 1)
    top, left = int(float(height - crop_h) / 2), int(float(width - crop_w) / 2)
    index = [slice(None)] * len(x.shape)
    index[h_axis] = slice(top, top + crop_h)
    index[h_axis + 1] = slice(left, left + crop_w)
    return x[tuple(index)]


def _aspect_pad(B, x, height, width, size, h_axis, fill_value):
    target_h, target_w = size
    pad_h = max(height, int(float(width * target_h) / target_w))
    pad_w = max(width, int(float(height * target_w) / target_h))
    top, left = int(float(pad_h - height) / 2), int(float(pad_w - width) / 2)
    widths = [[0, 0] for _ in x.shape]
    # As Keras: pad one axis only, by the same amount on both sides.
    if top > 0:
        widths[h_axis] = [top, top]
    elif left > 0:
        widths[h_axis + 1] = [left, left]
    else:
        return x
    return B.pad(x, widths, constant_values=fill_value)


def resize(B, images, size, interpolation, antialias, crop_to_aspect_ratio, pad_to_aspect_ratio, fill_mode,
           fill_value, data_format):
    """`ops.image.resize` on backend module `B` (see the module docstring)."""
    size = check_resize_args(interpolation, antialias, crop_to_aspect_ratio, pad_to_aspect_ratio, fill_mode, size)
    data_format = data_format_arg(data_format, "resize")
    x = B.convert_to_tensor(images)
    shape = tuple(B.shape(x))
    resize_output_shape(shape, size, data_format)
    h_axis = len(shape) - (3 if data_format == "channels_last" else 2)
    height = _static_size(shape[h_axis], "resize", "image height")
    width = _static_size(shape[h_axis + 1], "resize", "image width")
    if crop_to_aspect_ratio:
        x = _aspect_crop(x, height, width, size, h_axis)
    elif pad_to_aspect_ratio:
        x = _aspect_pad(B, x, height, width, size, h_axis, fill_value)
    dtype = standardize_dtype(B.dtype(x))
    if interpolation != "nearest" and not dtype.startswith(("float", "bfloat")):
        dtype = config.floatx()
        x = B.cast(x, dtype)
    for axis, out_size in ((h_axis, size[0]), (h_axis + 1, size[1])):
        in_size = int(B.shape(x)[axis])
        if in_size == out_size:
            continue
        if interpolation == "nearest":
            x = B.take(x, B.convert_to_tensor(nearest_indices(in_size, out_size)), axis=axis)
        else:
            weights = B.cast(B.convert_to_tensor(resize_weights(in_size, out_size, interpolation)), dtype)
            x = B.moveaxis(B.tensordot(weights, x, axes=([1], [axis])), 0, axis)
    return x


# -- affine_transform -------------------------------------------------------------------------------


def _fix_index(B, index, size, fill_mode):
    """Maps integer sample indices into `[0, size)` by `fill_mode` (constant: clipped, masked later)."""
    if fill_mode in ("constant", "nearest"):
        return B.clip(index, 0, size - 1)
    if fill_mode == "wrap":
        return B.mod(index, size)
    if fill_mode == "reflect":  # ... c b a | a b c | c b a ...
        folded = B.mod(index, 2 * size)
        return B.where(B.less(folded, size), folded, 2 * size - 1 - folded)
    if size == 1:  # mirror of a single pixel
        return B.multiply(index, 0)
    folded = B.mod(index, 2 * (size - 1))  # mirror: ... c b | a b c | b a ...
    return B.where(B.less_equal(folded, size - 1), folded, 2 * (size - 1) - folded)


def _inside(B, iy, ix, height, width):
    rows = B.logical_and(B.greater_equal(iy, 0), B.less(iy, height))
    return B.logical_and(rows, B.logical_and(B.greater_equal(ix, 0), B.less(ix, width)))


def _round_half_away(B, x):
    return B.multiply(B.sign(x), B.floor(B.add(B.abs(x), 0.5)))


def _check_affine(B, x, t, interpolation, fill_mode):
    if interpolation not in AFFINE_INTERPOLATIONS:
        raise ValueError(
            f"affine_transform: invalid value for argument `interpolation`. Expected one of "
            f"{AFFINE_INTERPOLATIONS}. Received: interpolation={interpolation!r}"
        )
    if fill_mode not in AFFINE_FILL_MODES:
        raise ValueError(
            f"affine_transform: invalid value for argument `fill_mode`. Expected one of {AFFINE_FILL_MODES}. "
            f"Received: fill_mode={fill_mode!r}"
        )
    if len(B.shape(x)) not in (3, 4):
        raise ValueError(
            "affine_transform: invalid images rank: expected rank 3 (single image) or rank 4 (batch of images). "
            f"Received input with shape: images.shape={tuple(B.shape(x))}"
        )
    t_shape = tuple(B.shape(t))
    if len(t_shape) not in (1, 2) or t_shape[-1] != 8:
        raise ValueError(
            "affine_transform: `transform` must have shape (8,) (one transform) or (batch, 8). "
            f"Received: transform.shape={t_shape}"
        )


def affine_transform(B, images, transform, interpolation, fill_mode, fill_value, data_format):
    """`ops.image.affine_transform` on backend module `B`.

    Output pixel (row y, column x) samples the input at column `a0*x + a1*y + a2` and row
    `b0*x + b1*y + b2`; as in Keras's JAX backend there is no projective divide (c0, c1 unused).
    """
    data_format = data_format_arg(data_format, "affine_transform")
    x = B.convert_to_tensor(images)
    t = B.convert_to_tensor(transform)
    _check_affine(B, x, t, interpolation, fill_mode)
    unbatched = len(B.shape(x)) == 3
    if unbatched:
        x = B.expand_dims(x, 0)
    if len(B.shape(t)) == 1:
        t = B.expand_dims(t, 0)
    if data_format == "channels_first":
        x = B.transpose(x, (0, 2, 3, 1))
    n, height, width, channels = (_static_size(s, "affine_transform", "image shape") for s in B.shape(x))
    dtype = standardize_dtype(B.dtype(x))
    coord_dtype = "float64" if "float64" in (dtype, standardize_dtype(B.dtype(t))) else "float32"
    t = B.cast(t, coord_dtype)
    rows = B.convert_to_tensor(np.arange(height, dtype=coord_dtype).reshape(1, height, 1))
    cols = B.convert_to_tensor(np.arange(width, dtype=coord_dtype).reshape(1, 1, width))

    def coefficient(k):
        return B.reshape(t[:, k], (-1, 1, 1))

    x_in = B.add(B.add(B.multiply(coefficient(0), cols), B.multiply(coefficient(1), rows)), coefficient(2))
    y_in = B.add(B.add(B.multiply(coefficient(3), cols), B.multiply(coefficient(4), rows)), coefficient(5))

    flat = B.reshape(x, (n * height * width, channels))
    offsets = B.convert_to_tensor(np.arange(n, dtype=np.int32).reshape(n, 1, 1) * (height * width))
    fill = B.cast(B.convert_to_tensor(fill_value), dtype)
    values = B.cast(flat, coord_dtype) if dtype != coord_dtype else flat

    def sample(iy, ix):
        fy, fx = _fix_index(B, iy, height, fill_mode), _fix_index(B, ix, width, fill_mode)
        index = B.add(B.add(B.multiply(fy, width), fx), offsets)
        picked = B.reshape(B.take(values, B.reshape(index, (-1,)), axis=0), (n, height, width, channels))
        if fill_mode == "constant":
            picked = B.where(B.expand_dims(_inside(B, iy, ix, height, width), -1), picked, B.cast(fill, coord_dtype))
        return picked

    if interpolation == "nearest":
        iy = B.cast(_round_half_away(B, y_in), "int32")
        ix = B.cast(_round_half_away(B, x_in), "int32")
        out = sample(iy, ix)
    else:
        y0, x0 = B.floor(y_in), B.floor(x_in)
        wy1, wx1 = B.subtract(y_in, y0), B.subtract(x_in, x0)
        wy0, wx0 = B.subtract(1.0, wy1), B.subtract(1.0, wx1)
        iy0, ix0 = B.cast(y0, "int32"), B.cast(x0, "int32")
        out = None
        for iy, wy in ((iy0, wy0), (B.add(iy0, 1), wy1)):
            for ix, wx in ((ix0, wx0), (B.add(ix0, 1), wx1)):
                term = B.multiply(B.expand_dims(B.multiply(wy, wx), -1), sample(iy, ix))
                out = term if out is None else B.add(out, term)
    if dtype != coord_dtype:
        if not dtype.startswith(("float", "bfloat")):
            out = _round_half_away(B, out)
        out = B.cast(out, dtype)
    if data_format == "channels_first":
        out = B.transpose(out, (0, 3, 1, 2))
    if unbatched:
        out = B.squeeze(out, 0)
    return out


def ops_for(backend_package):
    """`(resize, affine_transform)` with the `kbridge.ops.image` signatures, running on the
    backend package named `backend_package` (imported on first call: the backend package
    imports its `image` module while it is itself being imported)."""
    import importlib

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
        """Resizes images to `size` (see `kbridge.ops.image.resize`)."""
        return _resize(
            importlib.import_module(backend_package), images, size, interpolation, antialias, crop_to_aspect_ratio,
            pad_to_aspect_ratio, fill_mode, fill_value, data_format,
        )  # fmt: skip

    def affine_transform(images, transform, interpolation="bilinear", fill_mode="constant", fill_value=0,
                         data_format=None):  # fmt: skip
        """Warps images by affine transforms (see `kbridge.ops.image.affine_transform`)."""
        return _affine_transform(
            importlib.import_module(backend_package), images, transform, interpolation, fill_mode, fill_value,
            data_format,
        )

    return resize, affine_transform


_resize, _affine_transform = resize, affine_transform
