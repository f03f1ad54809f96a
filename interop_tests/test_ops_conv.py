"""Convolutions and pooling (1D/2D/3D, strides, dilation, groups, same/valid, channels_first).

References are naive NumPy loops written here: a direct sum for convolutions, the
adjoint (scatter-add of every input pixel times the kernel) for transposed
convolutions, and explicit windows for pooling. "same" padding puts the extra
pixel at the end (as TensorFlow); average pooling excludes padding from the mean.
"""

import math

import numpy as np
import pytest

rng = np.random.default_rng(6)
F = np.float32


def r(*shape):
    return rng.uniform(-1.0, 1.0, shape).astype(F)


def _tuple(value, n):
    return (value,) * n if isinstance(value, int) else tuple(value)


def _same_padding(size, window, stride):
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + window - size, 0)
    return out, total // 2, total - total // 2


def _to_last(x, data_format):
    return np.moveaxis(x, 1, -1) if data_format == "channels_first" else x


def _from_last(x, data_format):
    return np.moveaxis(x, -1, 1) if data_format == "channels_first" else x


def conv_ref(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """Direct N-D (grouped) convolution; kernel (*spatial, in_channels // groups, out_channels)."""
    return conv_ref64(inputs, kernel, strides, padding, data_format, dilation_rate).astype(F)


def conv_ref64(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """`conv_ref` in float64."""
    x = _to_last(inputs, data_format).astype(np.float64)
    nd = x.ndim - 2
    strides, dilation = _tuple(strides, nd), _tuple(dilation_rate, nd)
    window = kernel.shape[:nd]
    cin_g, cout = kernel.shape[-2], kernel.shape[-1]
    groups = x.shape[-1] // cin_g
    cout_g = cout // groups
    effective = [(window[i] - 1) * dilation[i] + 1 for i in range(nd)]
    out_shape, pads = [], [(0, 0)]
    for i in range(nd):
        if padding == "same":
            out, before, after = _same_padding(x.shape[1 + i], effective[i], strides[i])
        else:
            out, before, after = (x.shape[1 + i] - effective[i]) // strides[i] + 1, 0, 0
        out_shape.append(out)
        pads.append((before, after))
    x = np.pad(x, pads + [(0, 0)])
    y = np.zeros((x.shape[0], *out_shape, cout))
    for pos in np.ndindex(*out_shape):
        for kpos in np.ndindex(*window):
            index = tuple(pos[i] * strides[i] + kpos[i] * dilation[i] for i in range(nd))
            patch = x[(slice(None), *index, slice(None))]
            for g in range(groups):
                y[(slice(None), *pos, slice(g * cout_g, (g + 1) * cout_g))] += (
                    patch[:, g * cin_g : (g + 1) * cin_g] @ kernel[kpos][:, g * cout_g : (g + 1) * cout_g]
                )
    return _from_last(y, data_format)


def depthwise_ref(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """Depthwise conv = grouped conv with one group per channel; output channel c * multiplier + m."""
    nd = inputs.ndim - 2
    grouped = kernel.reshape(*kernel.shape[:nd], 1, kernel.shape[-2] * kernel.shape[-1])
    return conv_ref(inputs, grouped, strides, padding, data_format, dilation_rate)


def separable_ref(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid", data_format=None,
                  dilation_rate=1):  # fmt: skip
    """Depthwise conv (strides, dilation, padding) followed by a 1x1 pointwise conv."""
    depthwise = depthwise_ref(inputs, depthwise_kernel, strides, padding, data_format, dilation_rate)
    return conv_ref(depthwise, pointwise_kernel, 1, "valid", data_format, 1)


def conv_transpose_ref(inputs, kernel, strides=1, padding="valid", output_padding=None, data_format=None,
                       dilation_rate=1):  # fmt: skip
    """The adjoint of conv: each input pixel times the kernel (*spatial, out_channels, in_channels), scatter-added.

    The full result has length (in - 1) * stride + effective_kernel per axis. Keras 3 then keeps:
    "valid": (in - 1) * stride + max(effective_kernel, stride) (+ output_padding instead, when given), from 0;
    "same": in * stride, starting at max(effective_kernel - stride, 0) // 2 (the forward conv's "same" offset).
    """
    x = _to_last(inputs, data_format).astype(np.float64)
    nd = x.ndim - 2
    strides, dilation = _tuple(strides, nd), _tuple(dilation_rate, nd)
    window = kernel.shape[:nd]
    effective = [(window[i] - 1) * dilation[i] + 1 for i in range(nd)]
    sizes = x.shape[1:-1]
    full_shape = [(sizes[i] - 1) * strides[i] + effective[i] for i in range(nd)]
    full = np.zeros((x.shape[0], *full_shape, kernel.shape[-2]))
    for pos in np.ndindex(*sizes):
        pixel = x[(slice(None), *pos, slice(None))]  # (batch, in_channels)
        for kpos in np.ndindex(*window):
            index = tuple(pos[i] * strides[i] + kpos[i] * dilation[i] for i in range(nd))
            full[(slice(None), *index, slice(None))] += pixel @ kernel[kpos].T
    out_padding = None if output_padding is None else _tuple(output_padding, nd)
    slices = [slice(None)]
    for i in range(nd):
        if padding == "same":
            start, length = max(effective[i] - strides[i], 0) // 2, sizes[i] * strides[i]
        elif out_padding is None:
            start, length = 0, (sizes[i] - 1) * strides[i] + max(effective[i], strides[i])
        else:
            start, length = 0, (sizes[i] - 1) * strides[i] + effective[i] + out_padding[i]
        extra = start + length - full.shape[1 + i]
        if extra > 0:
            widths = [(0, 0)] * full.ndim
            widths[1 + i] = (0, extra)
            full = np.pad(full, widths)
        slices.append(slice(start, start + length))
    return _from_last(full[tuple(slices)], data_format).astype(F)


def _pool_ref(reduce):
    def ref(inputs, pool_size, strides=None, padding="valid", data_format=None):
        x = _to_last(inputs, data_format).astype(np.float64)
        nd = x.ndim - 2
        window = _tuple(pool_size, nd)
        strides = window if strides is None else _tuple(strides, nd)
        out_shape, starts = [], []
        for i in range(nd):
            if padding == "same":
                out, before, _ = _same_padding(x.shape[1 + i], window[i], strides[i])
            else:
                out, before = (x.shape[1 + i] - window[i]) // strides[i] + 1, 0
            out_shape.append(out)
            starts.append(before)
        y = np.zeros((x.shape[0], *out_shape, x.shape[-1]))
        for pos in np.ndindex(*out_shape):
            region = []
            for i in range(nd):  # the window clipped to the input: padding takes no part
                lo = pos[i] * strides[i] - starts[i]
                region.append(slice(max(lo, 0), min(lo + window[i], x.shape[1 + i])))
            patch = x[(slice(None), *region, slice(None))]
            y[(slice(None), *pos, slice(None))] = reduce(patch.reshape(x.shape[0], -1, x.shape[-1]), axis=1)
        return _from_last(y, data_format).astype(F)

    return ref


max_pool_ref = _pool_ref(np.max)
average_pool_ref = _pool_ref(np.mean)


def case(id, op, args, ref, kwargs=None, **opts):
    """One test: `op(*args, **kwargs)` against the NumPy loop reference `ref`."""
    opts.setdefault("atol", 1e-5)
    return pytest.param(op, args, kwargs or {}, ref, opts, id=id)


CF = {"data_format": "channels_first"}
X1, K1 = r(2, 9, 3), r(3, 3, 4)
X2, K2 = r(2, 7, 6, 3), r(3, 2, 3, 4)
X3, K3 = r(1, 5, 4, 4, 2), r(2, 3, 2, 2, 3)

CONV = [
    case("conv1d-valid", "conv", (X1, K1), conv_ref),
    case("conv1d-same", "conv", (X1, K1), conv_ref, {"padding": "same"}),
    case("conv1d-stride2_valid", "conv", (X1, K1), conv_ref, {"strides": 2}),
    case("conv1d-stride2_same", "conv", (r(2, 8, 3), K1), conv_ref, {"strides": 2, "padding": "same"}),
    case("conv1d-dilation2", "conv", (X1, K1), conv_ref, {"dilation_rate": 2}),
    case("conv1d-dilation2_same", "conv", (X1, K1), conv_ref, {"dilation_rate": 2, "padding": "same"}),
    case("conv1d-groups2", "conv", (r(2, 9, 4), r(3, 2, 6)), conv_ref),
    case("conv1d-channels_first", "conv", (np.moveaxis(X1, -1, 1).copy(), K1), conv_ref, CF),
    case("conv2d-valid", "conv", (X2, K2), conv_ref),
    case("conv2d-same", "conv", (X2, K2), conv_ref, {"padding": "same"}),
    case("conv2d-strides_2_1", "conv", (X2, K2), conv_ref, {"strides": (2, 1)}),
    case("conv2d-same_stride2_even_kernel", "conv", (X2, r(2, 2, 3, 4)), conv_ref, {"strides": 2, "padding": "same"}),
    case("conv2d-dilation_2_1", "conv", (X2, K2), conv_ref, {"dilation_rate": (2, 1)}),
    case("conv2d-groups3", "conv", (r(2, 5, 5, 6), r(2, 2, 2, 3)), conv_ref, {"padding": "same"}),
    case("conv2d-groups_depthwise_like", "conv", (r(1, 5, 5, 4), r(3, 3, 1, 8)), conv_ref),
    case("conv2d-channels_first", "conv", (np.moveaxis(X2, -1, 1).copy(), K2), conv_ref, CF),
    case(
        "conv2d-channels_first_same_stride2",
        "conv",
        (np.moveaxis(X2, -1, 1).copy(), K2),
        conv_ref,
        {**CF, "padding": "same", "strides": 2},
    ),
    case("conv3d-valid", "conv", (X3, K3), conv_ref),
    case("conv3d-same_stride2", "conv", (X3, K3), conv_ref, {"padding": "same", "strides": 2}),
    case("conv3d-channels_first", "conv", (np.moveaxis(X3, -1, 1).copy(), K3), conv_ref, CF),
    case("conv3d-dilation2", "conv", (r(1, 5, 5, 5, 2), r(2, 2, 2, 2, 2)), conv_ref, {"dilation_rate": 2}),
]

DEPTHWISE = [
    case("depthwise_conv2d-valid", "depthwise_conv", (X2, r(3, 3, 3, 2)), depthwise_ref),
    case(
        "depthwise_conv2d-same_stride2",
        "depthwise_conv",
        (X2, r(3, 3, 3, 1)),
        depthwise_ref,
        {"strides": 2, "padding": "same"},
    ),
    case("depthwise_conv2d-dilation2", "depthwise_conv", (X2, r(2, 2, 3, 2)), depthwise_ref, {"dilation_rate": 2}),
    case(
        "depthwise_conv2d-channels_first",
        "depthwise_conv",
        (np.moveaxis(X2, -1, 1).copy(), r(3, 2, 3, 2)),
        depthwise_ref,
        {**CF, "padding": "same"},
    ),
    case("depthwise_conv1d", "depthwise_conv", (X1, r(3, 3, 2)), depthwise_ref, {"padding": "same"}),
    case(
        "separable_conv2d-same",
        "separable_conv",
        (X2, r(3, 3, 3, 2), r(1, 1, 6, 4)),
        separable_ref,
        {"padding": "same"},
    ),
    case(
        "separable_conv2d-stride2", "separable_conv", (X2, r(2, 2, 3, 1), r(1, 1, 3, 5)), separable_ref, {"strides": 2}
    ),
    case(
        "separable_conv2d-channels_first",
        "separable_conv",
        (np.moveaxis(X2, -1, 1).copy(), r(3, 3, 3, 2), r(1, 1, 6, 4)),
        separable_ref,
        CF,
    ),
    case("separable_conv1d", "separable_conv", (X1, r(3, 3, 2), r(1, 6, 4)), separable_ref, {"dilation_rate": 2}),
]

TRANSPOSE = [
    case(
        "conv_transpose1d-valid_stride2", "conv_transpose", (r(2, 5, 3), r(3, 4, 3)), conv_transpose_ref, {"strides": 2}
    ),
    case(
        "conv_transpose1d-same_stride2",
        "conv_transpose",
        (r(2, 5, 3), r(3, 4, 3)),
        conv_transpose_ref,
        {"strides": 2, "padding": "same"},
    ),
    case(
        "conv_transpose1d-valid_stride3_kernel2",
        "conv_transpose",
        (r(2, 4, 3), r(2, 2, 3)),
        conv_transpose_ref,
        {"strides": 3},
    ),
    case(
        "conv_transpose1d-output_padding",
        "conv_transpose",
        (r(2, 4, 3), r(3, 2, 3)),
        conv_transpose_ref,
        {"strides": 2, "output_padding": 1},
    ),
    case(
        "conv_transpose1d-dilation2",
        "conv_transpose",
        (r(2, 4, 3), r(3, 2, 3)),
        conv_transpose_ref,
        {"dilation_rate": 2},
    ),
    case("conv_transpose2d-valid", "conv_transpose", (r(2, 3, 4, 3), r(3, 3, 2, 3)), conv_transpose_ref),
    case(
        "conv_transpose2d-valid_stride2",
        "conv_transpose",
        (r(2, 3, 4, 3), r(3, 3, 2, 3)),
        conv_transpose_ref,
        {"strides": 2},
    ),
    case(
        "conv_transpose2d-same_stride2",
        "conv_transpose",
        (r(2, 3, 4, 3), r(3, 3, 2, 3)),
        conv_transpose_ref,
        {"strides": 2, "padding": "same"},
    ),
    case(
        "conv_transpose2d-same_stride1",
        "conv_transpose",
        (r(2, 3, 4, 3), r(3, 3, 2, 3)),
        conv_transpose_ref,
        {"padding": "same"},
    ),
    case(
        "conv_transpose2d-same_even_kernel",
        "conv_transpose",
        (r(2, 3, 4, 3), r(4, 4, 2, 3)),
        conv_transpose_ref,
        {"strides": 2, "padding": "same"},
    ),
    case(
        "conv_transpose2d-channels_first",
        "conv_transpose",
        (r(2, 3, 3, 4), r(3, 3, 2, 3)),
        conv_transpose_ref,
        {**CF, "strides": 2},
    ),
    case(
        "conv_transpose3d-same_stride2",
        "conv_transpose",
        (r(1, 2, 3, 2, 2), r(2, 3, 2, 3, 2)),
        conv_transpose_ref,
        {"strides": 2, "padding": "same"},
    ),
]

P2 = r(2, 7, 6, 3)
POOL = [
    case("max_pool2d-valid", "max_pool", (P2, 2), max_pool_ref),
    case("max_pool2d-same_stride2", "max_pool", (P2, 3), max_pool_ref, {"strides": 2, "padding": "same"}),
    case("max_pool2d-same_stride1", "max_pool", (P2, (2, 3)), max_pool_ref, {"strides": 1, "padding": "same"}),
    case("max_pool2d-strides_tuple", "max_pool", (P2, (3, 2)), max_pool_ref, {"strides": (2, 1)}),
    case(
        "max_pool2d-channels_first",
        "max_pool",
        (np.moveaxis(P2, -1, 1).copy(), 2),
        max_pool_ref,
        {**CF, "padding": "same"},
    ),
    case("max_pool1d-same", "max_pool", (X1, 2), max_pool_ref, {"strides": 1, "padding": "same"}),
    case("max_pool3d-same", "max_pool", (X3, 2), max_pool_ref, {"padding": "same"}),
    case("average_pool2d-valid", "average_pool", (P2, 2), average_pool_ref),
    case(
        "average_pool2d-same_excludes_padding",
        "average_pool",
        (P2, 3),
        average_pool_ref,
        {"strides": 2, "padding": "same"},
    ),
    case("average_pool2d-same_stride1", "average_pool", (P2, 2), average_pool_ref, {"strides": 1, "padding": "same"}),
    case(
        "average_pool2d-channels_first",
        "average_pool",
        (np.moveaxis(P2, -1, 1).copy(), 3),
        average_pool_ref,
        {**CF, "strides": 2, "padding": "same"},
    ),
    case("average_pool1d-same", "average_pool", (X1, 4), average_pool_ref, {"strides": 2, "padding": "same"}),
    case("average_pool3d-valid", "average_pool", (X3, (2, 2, 1)), average_pool_ref),
]

def conv_bias_ref(inputs, kernel, bias, data_format=None, **kwargs):
    """`conv_ref` plus `bias` over the channel axis."""
    out = _to_last(conv_ref(inputs, kernel, data_format=data_format, **kwargs), data_format) + bias
    return _from_last(out, data_format)


B4 = r(4)
BIAS = [
    case("conv2d-bias", "conv", (X2, K2), conv_bias_ref, {"bias": B4}),
    case("conv2d-bias_same_stride2", "conv", (X2, K2), conv_bias_ref, {"bias": B4, "strides": 2, "padding": "same"}),
    case("conv2d-bias_channels_first", "conv", (np.moveaxis(X2, -1, 1).copy(), K2), conv_bias_ref, {**CF, "bias": B4}),
    case("conv1d-bias", "conv", (X1, K1), conv_bias_ref, {"bias": B4}),
    case("conv3d-bias_channels_first", "conv", (np.moveaxis(X3, -1, 1).copy(), K3), conv_bias_ref, {**CF, "bias": r(3)}),
    # A float64 bias promotes the float32 convolution, as `ops.add` would (torch: the unfused path;
    # jax without x64 stays float32, so the dtype is not compared).
    case("conv2d-bias_promotes", "conv", (X2, K2), conv_bias_ref, {"bias": B4.astype("float64")}, dtype=None),
]

CASES = CONV + DEPTHWISE + TRANSPOSE + POOL + BIAS


@pytest.mark.parametrize("op,args,kwargs,ref,opts", CASES)
def test_conv(bk, op, args, kwargs, ref, opts):
    bk.check(op, args, kwargs, ref, **opts)


def test_conv_reference_self_check():
    """The loop references agree with each other: <conv(x), y> == <x, conv_transpose(y)> (the adjoint)."""
    k = r(3, 3, 2, 4)  # conv 2 -> 4 channels; as a transposed kernel: 4 -> 2 channels
    for shape, strides, padding in [((1, 6, 4, 2), 2, "valid"), ((1, 6, 4, 2), 2, "same"), ((1, 5, 5, 2), 1, "same")]:
        x = r(*shape)
        forward = conv_ref(x, k, strides=strides, padding=padding)
        y = r(*forward.shape)
        back = conv_transpose_ref(y, k, strides=strides, padding=padding)
        widths = [(0, 0), (0, x.shape[1] - back.shape[1]), (0, x.shape[2] - back.shape[2]), (0, 0)]
        back = np.pad(back, widths)  # "valid" leaves trailing input pixels unused by conv
        np.testing.assert_allclose(np.sum(forward * y), np.sum(x * back), rtol=1e-4)


def _pool_grad_ref(x, pool_size, strides, padding, mode):
    """d sum(pool(x)) / dx: 1 at each window's (unique) maximum, or 1 / count over each window."""
    nd = x.ndim - 2
    window = _tuple(pool_size, nd)
    strides = _tuple(strides, nd)
    grad = np.zeros(x.shape)
    out_shape, starts = [], []
    for i in range(nd):
        if padding == "same":
            out, before, _ = _same_padding(x.shape[1 + i], window[i], strides[i])
        else:
            out, before = (x.shape[1 + i] - window[i]) // strides[i] + 1, 0
        out_shape.append(out)
        starts.append(before)
    for pos in np.ndindex(*out_shape):
        region = []
        for i in range(nd):
            lo = pos[i] * strides[i] - starts[i]
            region.append(np.arange(max(lo, 0), min(lo + window[i], x.shape[1 + i])))
        for b in range(x.shape[0]):
            for c in range(x.shape[-1]):
                cells = list(np.ndindex(*[len(r) for r in region]))
                indices = [tuple(region[i][k[i]] for i in range(nd)) for k in cells]
                if mode == "max":
                    best = max(indices, key=lambda ix: x[(b, *ix, c)])
                    grad[(b, *best, c)] += 1
                else:
                    for ix in indices:
                        grad[(b, *ix, c)] += 1 / len(indices)
    return grad


def _grad_of_sum(backend, op, x, kwargs):
    from kbridge import ops
    from kbridge.backend import use

    fn = getattr(ops, op)
    with use(backend):
        if backend == "jax":
            import jax

            # Under jit, as the trainer runs it (eager grad worked before the fix).
            return np.asarray(jax.jit(jax.grad(lambda t: ops.sum(fn(t, **kwargs))))(jax.numpy.asarray(x)))
        if backend == "torch":
            import torch

            t = torch.tensor(x, requires_grad=True)
            ops.sum(fn(t, **kwargs)).backward()
            return t.grad.numpy()
        import tensorflow as tf

        t = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(t)
            total = ops.sum(fn(t, **kwargs))
        return tape.gradient(total, t).numpy()


@pytest.mark.parametrize("backend", ["jax", "torch", "tensorflow"])
@pytest.mark.parametrize("op,kwargs", [
    ("max_pool", {"pool_size": 2, "strides": 2, "padding": "valid"}),
    ("max_pool", {"pool_size": 3, "strides": 2, "padding": "same"}),
    ("average_pool", {"pool_size": 2, "strides": 1, "padding": "valid"}),
    ("average_pool", {"pool_size": 3, "strides": 2, "padding": "same"}),
])  # fmt: skip
def test_pooling_gradients_match_numpy(backend, op, kwargs):
    """Pooling is differentiable on every autodiff backend (JAX once failed: non-constant init values)."""
    from kbridge.backend import registry

    if not registry.is_installed(backend):
        pytest.skip(f"{backend} is not installed")
    x = r(2, 5, 6, 2)
    expected = _pool_grad_ref(x, kwargs["pool_size"], kwargs["strides"], kwargs["padding"], op.split("_")[0])
    np.testing.assert_allclose(_grad_of_sum(backend, op, x, kwargs), expected, rtol=1e-5, atol=1e-6)


def _conv_bias_grads(backend, x, kernel, bias, upstream, **kwargs):
    """Gradients of sum(conv(x, kernel, bias=bias) * upstream) w.r.t. (x, kernel, bias), in float64."""
    from kbridge import ops
    from kbridge.backend import use

    def loss(x, kernel, bias):
        return ops.sum(ops.multiply(ops.conv(x, kernel, bias=bias, **kwargs), ops.convert_to_tensor(upstream)))

    with use(backend):
        if backend == "jax":
            import jax

            jax.config.update("jax_enable_x64", True)
            try:
                return [np.asarray(g) for g in jax.jit(jax.grad(loss, argnums=(0, 1, 2)))(x, kernel, bias)]
            finally:
                jax.config.update("jax_enable_x64", False)
        if backend == "torch":
            import torch

            tensors = [torch.tensor(a, requires_grad=True) for a in (x, kernel, bias)]
            loss(*tensors).backward()
            return [t.grad.numpy() for t in tensors]
        import tensorflow as tf

        tensors = [tf.constant(a) for a in (x, kernel, bias)]
        with tf.GradientTape() as tape:
            tape.watch(tensors)
            total = loss(*tensors)
        return [g.numpy() for g in tape.gradient(total, tensors)]


@pytest.mark.parametrize("backend", ["jax", "torch", "tensorflow"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv_bias_gradients_float64(backend, data_format):
    """The fused bias (torch) and the added one (elsewhere) have the same gradients: d/d bias is the
    upstream summed over batch and space; d/d x and d/d kernel equal the unbiased convolution's."""
    from kbridge.backend import registry

    if not registry.is_installed(backend):
        pytest.skip(f"{backend} is not installed")
    g = np.random.default_rng(3)
    x, kernel, bias = g.standard_normal((2, 5, 4, 3)), g.standard_normal((3, 2, 3, 4)), g.standard_normal(4)
    if data_format == "channels_first":
        x = np.moveaxis(x, -1, 1).copy()
    out = conv_ref(x, kernel, padding="same", data_format=data_format)
    upstream = g.standard_normal(out.shape)
    grads = _conv_bias_grads(backend, x, kernel, bias, upstream, padding="same", data_format=data_format)
    channel_axis = 1 if data_format == "channels_first" else -1
    expected_bias = np.moveaxis(upstream, channel_axis, -1).reshape(-1, 4).sum(0)
    np.testing.assert_allclose(grads[2], expected_bias, rtol=1e-10)
    # d/dx and d/dkernel by central differences of the reference (linear in each, so exact up to rounding).
    for index, value in enumerate((x, kernel)):
        flat = value.reshape(-1)
        numeric = np.zeros_like(flat)
        for i in range(flat.size):
            bumped = [x.copy(), kernel.copy()]
            bumped[index].reshape(-1)[i] += 1.0
            plus = np.sum(conv_ref64(*bumped, padding="same", data_format=data_format) * upstream)
            bumped[index].reshape(-1)[i] -= 2.0
            minus = np.sum(conv_ref64(*bumped, padding="same", data_format=data_format) * upstream)
            numeric[i] = (plus - minus) / 2.0
        np.testing.assert_allclose(grads[index], numeric.reshape(value.shape), rtol=1e-9, atol=1e-9)
    assert all(grad.dtype == np.float64 for grad in grads)


def test_conv_bias_of_the_wrong_shape_is_a_clear_error(bk):
    from kbridge import ops

    with pytest.raises(ValueError, match=r"conv: bias must have shape \(4,\).*received shape \(3,\)"):
        bk.call(ops.conv, X2, K2, bias=r(3))
    with pytest.raises(ValueError, match=r"conv: bias must have shape \(4,\)"):
        bk.call(ops.conv, X2, K2, bias=r(1, 4))
