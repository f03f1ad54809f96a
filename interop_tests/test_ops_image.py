"""`ops.image.resize` and `ops.image.affine_transform` on numpy, jax, torch and tensorflow.

References are explicit NumPy loops written here, one output pixel at a time: resize samples
input coordinate `(i + 0.5) * in / out - 0.5` (half-pixel centres, no antialias) with
edge-clamped bilinear, Keys-cubic taps renormalized over the pixels inside the image, or
`floor((i + 0.5) * in / out)` for nearest; affine_transform samples `(a0*x + a1*y + a2,
b0*x + b1*y + b2)` with each of the four bilinear corners (or the half-away-rounded nearest
pixel) mapped in by the fill mode. Keras parity: test_keras_parity_image.py.
"""

import math

import numpy as np
import pytest

from kbridge import ops
from kbridge.backend import registry, use

rng = np.random.default_rng(11)
F = np.float32
GRAD_BACKENDS = [b for b in ("jax", "torch", "tensorflow") if registry.is_installed(b)]


def r(*shape):
    return rng.uniform(-1.0, 1.0, shape).astype(F)


def _last(x, data_format):
    return np.moveaxis(x, -3, -1) if data_format == "channels_first" else x


def _back(y, data_format):
    return np.moveaxis(y, -1, -3) if data_format == "channels_first" else y


# -- resize reference ------------------------------------------------------------------------------


def _keys(t):
    t = abs(t)
    if t < 1:
        return (1.5 * t - 2.5) * t * t + 1
    if t < 2:
        return ((-0.5 * t + 2.5) * t - 4) * t + 2
    return 0.0


def _taps_1d(in_size, out_size, i, interpolation):
    """[(input index, weight)] of output pixel `i` along one axis."""
    if in_size == out_size:
        return [(i, 1.0)]
    if interpolation == "nearest":
        centre = (np.float32(i) + np.float32(0.5)) * np.float32(in_size) / np.float32(out_size)
        return [(int(math.floor(centre)), 1.0)]
    y = (i + 0.5) * in_size / out_size - 0.5
    if interpolation == "bilinear":
        y0 = math.floor(y)
        frac = y - y0
        return [(min(max(y0, 0), in_size - 1), 1 - frac), (min(max(y0 + 1, 0), in_size - 1), frac)]
    taps = [(j, _keys(y - j)) for j in range(math.floor(y) - 1, math.floor(y) + 3) if 0 <= j < in_size]
    total = sum(w for _, w in taps)
    return [(j, w / total) for j, w in taps]


def resize_ref(x, size, interpolation="bilinear", data_format="channels_last", crop_to_aspect_ratio=False):
    x = _last(np.asarray(x, np.float64), data_format)
    unbatched = x.ndim == 3
    if unbatched:
        x = x[None]
    if crop_to_aspect_ratio:
        h, w = x.shape[1:3]
        ch = max(min(h, int(w * size[0] / size[1])), 1)
        cw = max(min(w, int(h * size[1] / size[0])), 1)
        top, left = (h - ch) // 2, (w - cw) // 2
        x = x[:, top : top + ch, left : left + cw]
    n, h, w, c = x.shape
    y = np.zeros((n, size[0], size[1], c))
    for i in range(size[0]):
        for j in range(size[1]):
            for p, wp in _taps_1d(h, size[0], i, interpolation):
                for q, wq in _taps_1d(w, size[1], j, interpolation):
                    y[:, i, j] += wp * wq * x[:, p, q]
    y = y[0] if unbatched else y
    return _back(y, data_format)


# -- affine reference ------------------------------------------------------------------------------


def _fix(index, size, mode):
    """`index` mapped into [0, size) by `mode`, or None (constant: outside)."""
    if mode == "constant":
        return index if 0 <= index < size else None
    if mode == "nearest":
        return min(max(index, 0), size - 1)
    if mode == "wrap":
        return index % size
    if size == 1:
        return 0
    while not 0 <= index < size:  # unfold one reflection at a time
        if mode == "reflect":  # d c b a | a b c d | d c b a
            index = -index - 1 if index < 0 else 2 * size - 1 - index
        else:  # mirror: d c b | a b c d | c b a
            index = -index if index < 0 else 2 * (size - 1) - index
    return index


def _round_half_away(v):
    return math.copysign(math.floor(abs(v) + 0.5), v)


def affine_ref(x, transform, interpolation="bilinear", fill_mode="constant", fill_value=0.0,
               data_format="channels_last"):
    x = _last(np.asarray(x, np.float64), data_format)
    # Coordinates in float32, as the op (and Keras) computes them: nearest rounding at x.5 depends on it.
    t = np.asarray(transform, np.float32)
    unbatched = x.ndim == 3
    if unbatched:
        x = x[None]
    if t.ndim == 1:
        t = np.broadcast_to(t, (x.shape[0], 8))
    n, h, w, c = x.shape
    y = np.zeros_like(x)

    def pixel(b, row, col):
        fr, fc = _fix(row, h, fill_mode), _fix(col, w, fill_mode)
        return np.full(c, float(fill_value)) if fr is None or fc is None else x[b, fr, fc]

    for b in range(n):
        a0, a1, a2, b0, b1, b2 = t[b, :6]
        for row in range(h):
            for col in range(w):
                col32, row32 = np.float32(col), np.float32(row)
                xin = float(a0 * col32 + a1 * row32 + a2)
                yin = float(b0 * col32 + b1 * row32 + b2)
                if interpolation == "nearest":
                    y[b, row, col] = pixel(b, int(_round_half_away(yin)), int(_round_half_away(xin)))
                    continue
                r0, c0 = math.floor(yin), math.floor(xin)
                fr, fc = yin - r0, xin - c0
                y[b, row, col] = (
                    (1 - fr) * (1 - fc) * pixel(b, r0, c0)
                    + (1 - fr) * fc * pixel(b, r0, c0 + 1)
                    + fr * (1 - fc) * pixel(b, r0 + 1, c0)
                    + fr * fc * pixel(b, r0 + 1, c0 + 1)
                )
    y = y[0] if unbatched else y
    return _back(y, data_format)


def test_references_self_check():
    """The loop references agree with hand-worked values."""
    x = np.arange(4.0).reshape(1, 2, 2, 1)
    # 2 -> 4 bilinear: centres at -0.25, 0.25, 0.75, 1.25 -> 0, 0.25, 0.75, 1 along a row of [0, 1].
    np.testing.assert_allclose(resize_ref(x, (2, 4))[0, 0, :, 0], [0, 0.25, 0.75, 1])
    np.testing.assert_allclose(resize_ref(x, (4, 2), "nearest")[0, :, 0, 0], [0, 0, 2, 2])
    # A pure shift by one column right, reflect: column 0 reads column -1 -> 0.
    shift = [1, 0, -1, 0, 1, 0, 0, 0]
    np.testing.assert_allclose(affine_ref(x, shift, fill_mode="reflect")[0, 0, :, 0], [0, 0])
    np.testing.assert_allclose(affine_ref(x, shift, fill_mode="constant", fill_value=9)[0, 0, :, 0], [9, 0])
    assert [_fix(i, 3, "reflect") for i in range(-4, 7)] == [2, 2, 1, 0, 0, 1, 2, 2, 1, 0, 0]
    assert [_fix(i, 3, "mirror") for i in range(-4, 7)] == [0, 1, 2, 1, 0, 1, 2, 1, 0, 1, 2]
    assert [_fix(i, 3, "wrap") for i in range(-2, 4)] == [1, 2, 0, 1, 2, 0]


# -- resize ----------------------------------------------------------------------------------------

RESIZE_CASES = [
    ((2, 5, 7, 3), (8, 4), "bilinear", {}),
    ((2, 5, 7, 3), (3, 11), "bilinear", {}),
    ((5, 6, 2), (10, 3), "bilinear", {}),  # unbatched
    ((2, 5, 7, 3), (8, 4), "nearest", {}),
    ((2, 6, 4, 1), (3, 9), "nearest", {}),
    ((2, 5, 7, 3), (9, 4), "bicubic", {}),
    ((2, 4, 9, 2), (3, 3), "bilinear", {"crop_to_aspect_ratio": True}),
]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("shape,size,interpolation,kwargs", RESIZE_CASES)
def test_resize_matches_reference(bk, shape, size, interpolation, kwargs, data_format):
    x = r(*shape)
    if data_format == "channels_first":
        x = np.ascontiguousarray(_back(x, data_format))
    bk.check(
        "resize", (x, size), dict(interpolation=interpolation, data_format=data_format, **kwargs),
        lambda x_, size_, **kw: resize_ref(x_, size_, interpolation, data_format, kwargs.get("crop_to_aspect_ratio")),
        rtol=1e-5, atol=1e-5, dtype="float32",
    )


def test_resize_pad_to_aspect_ratio_pads_with_fill_value(bk):
    x = r(1, 2, 6, 1)
    out = bk.run("resize", x, (6, 6), interpolation="nearest", pad_to_aspect_ratio=True, fill_value=7.0)
    # 2 rows padded by 2 above and below to 6x6, then unchanged: rows 0-1 and 4-5 are the fill value.
    np.testing.assert_array_equal(out[0, [0, 1, 4, 5], :, 0], np.full((4, 6), 7.0, F))
    np.testing.assert_array_equal(out[0, 2:4], x[0])


def test_resize_dtypes(bk):
    x = (rng.uniform(0, 255, (1, 4, 4, 3))).astype(np.uint8)
    assert bk.dtypes(bk.run_native("resize", x, (2, 2), interpolation="nearest")) == "uint8"
    out = bk.run_native("resize", x, (6, 6))
    assert bk.dtypes(out) == "float32"
    np.testing.assert_allclose(bk.to_numpy(out), resize_ref(x, (6, 6)), rtol=1e-5, atol=1e-4)


def test_resize_errors(bk):
    x = r(1, 4, 4, 1)
    with pytest.raises(ValueError, match="resize.*interpolation.*cubicle"):
        bk.run("resize", x, (2, 2), interpolation="cubicle")
    with pytest.raises(NotImplementedError, match="antialias"):
        bk.run("resize", x, (2, 2), antialias=True)
    with pytest.raises(ValueError, match="resize.*size"):
        bk.run("resize", x, (2, 2, 2))
    with pytest.raises(ValueError, match="resize.*rank.*images.shape=\\(4, 4\\)"):
        bk.run("resize", x[0, :, :, 0], (2, 2))
    with pytest.raises(ValueError, match="only one of"):
        bk.run("resize", x, (2, 3), crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)


def _grad_of_weighted_sum(backend, fn, x, weights):
    with use(backend):
        if backend == "jax":
            import jax

            jax.config.update("jax_enable_x64", True)
            try:
                loss = jax.jit(jax.grad(lambda t: ops.sum(ops.multiply(fn(t), weights))))
                return np.asarray(loss(jax.numpy.asarray(x)))
            finally:
                jax.config.update("jax_enable_x64", False)
        if backend == "torch":
            import torch

            t = torch.tensor(x, requires_grad=True)
            ops.sum(ops.multiply(fn(t), torch.tensor(weights))).backward()
            return t.grad.numpy()
        import tensorflow as tf

        t = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(t)
            total = ops.sum(ops.multiply(fn(t), tf.constant(weights)))
        return tape.gradient(total, t).numpy()


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_bilinear_resize_gradients_float64_equal_across_backends(data_format):
    assert GRAD_BACKENDS, "no differentiable backend installed"
    shape = (2, 4, 5, 2) if data_format == "channels_last" else (2, 2, 4, 5)
    x = rng.normal(size=shape)
    out_shape = (2, 7, 3, 2) if data_format == "channels_last" else (2, 2, 7, 3)
    weights = rng.normal(size=out_shape)

    def fn(t):
        return ops.image.resize(t, (7, 3), data_format=data_format)

    # The map is linear: d(sum(w * resize(x)))/dx_k = sum(w * resize(e_k)).
    expected = np.zeros(shape)
    for k in np.ndindex(*shape):
        basis = np.zeros(shape)
        basis[k] = 1.0
        expected[k] = np.sum(weights * resize_ref(basis, (7, 3), "bilinear", data_format))
    grads = {b: _grad_of_weighted_sum(b, fn, x, weights) for b in GRAD_BACKENDS}
    for name, grad in grads.items():
        assert grad.dtype == np.float64, name
        np.testing.assert_allclose(grad, expected, rtol=1e-10, atol=1e-12, err_msg=name)
    first = next(iter(grads.values()))
    for name, grad in grads.items():
        np.testing.assert_allclose(grad, first, rtol=1e-12, atol=1e-12, err_msg=name)


# -- affine_transform ------------------------------------------------------------------------------

TRANSFORMS = np.array(
    [[0.9, 0.2, 0.7, -0.3, 1.1, -0.4, 0, 0], [1.2, -0.1, -1.6, 0.15, 0.8, 1.3, 0, 0]], F
)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("fill_mode", ["constant", "nearest", "wrap", "mirror", "reflect"])
def test_affine_transform_matches_reference(bk, fill_mode, interpolation, data_format):
    x = r(2, 5, 6, 3)
    if data_format == "channels_first":
        x = np.ascontiguousarray(_back(x, data_format))
    kwargs = dict(interpolation=interpolation, fill_mode=fill_mode, fill_value=0.3, data_format=data_format)
    bk.check(
        "affine_transform", (x, TRANSFORMS), kwargs,
        lambda x_, t_, **kw: affine_ref(x_, t_, **kw), rtol=1e-5, atol=1e-5, dtype="float32",
    )


def test_affine_transform_unbatched_single_transform_and_rotation(bk):
    x = r(4, 5, 2)
    angle = 0.7
    cx, cy = 2.0, 1.5
    a0, a1, b0, b1 = math.cos(angle), -math.sin(angle), math.sin(angle), math.cos(angle)
    t = np.array([a0, a1, cx - cx * a0 - cy * a1, b0, b1, cy - cx * b0 - cy * b1, 0, 0], F)
    bk.check("affine_transform", (x, t), dict(fill_mode="reflect"), lambda x_, t_, **kw: affine_ref(x_, t_, **kw),
             rtol=1e-5, atol=1e-5, dtype="float32")


def test_affine_transform_integer_images_round(bk):
    x = rng.integers(0, 255, (1, 4, 4, 1)).astype(np.int32)
    t = np.array([1, 0, 0.5, 0, 1, 0.25, 0, 0], F)
    out = bk.run_native("affine_transform", x, t)
    assert bk.dtypes(out) == "int32"
    ref = np.vectorize(_round_half_away)(affine_ref(x, t)).astype(np.int32)
    np.testing.assert_array_equal(bk.to_numpy(out), ref)


def test_affine_transform_errors(bk):
    x = r(1, 4, 4, 1)
    with pytest.raises(ValueError, match="affine_transform.*fill_mode.*bounce"):
        bk.run("affine_transform", x, TRANSFORMS[0], fill_mode="bounce")
    with pytest.raises(ValueError, match="affine_transform.*interpolation.*bicubic"):
        bk.run("affine_transform", x, TRANSFORMS[0], interpolation="bicubic")
    with pytest.raises(ValueError, match="affine_transform.*transform.shape=\\(6,\\)"):
        bk.run("affine_transform", x, TRANSFORMS[0, :6])
    with pytest.raises(ValueError, match="affine_transform.*rank"):
        bk.run("affine_transform", x[0, :, :, 0], TRANSFORMS[0])


def test_image_ops_exposed_as_ops_image():
    from kbridge.ops import image

    assert ops.image is image
    assert ops.resize is image.resize and ops.affine_transform is image.affine_transform
    assert {"resize", "affine_transform"} <= set(ops.OP_NAMES)
