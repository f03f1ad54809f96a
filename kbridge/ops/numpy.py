"""NumPy-like ops (Keras 3 `keras.ops.numpy`).

Each op forwards to the active backend (DESIGN.md invariant 3); the backends live in
`kbridge.adapters.<fw>.backend`. Keep signatures in step
with every backend (each backend's contract test compares them).
"""

# ruff: noqa: A001, A002
from kbridge.backend._state import state as _state

__all__ = ['abs', 'absolute', 'add', 'all', 'any', 'amax', 'amin', 'append', 'arange', 'arccos', 'arccosh', 'arcsin', 'arcsinh', 'arctan', 'arctan2', 'arctanh', 'argmax', 'argmin', 'argsort', 'array', 'average', 'bincount', 'bitwise_and', 'bitwise_or', 'bitwise_xor', 'bitwise_not', 'left_shift', 'right_shift', 'broadcast_to', 'ceil', 'clip', 'concatenate', 'conjugate', 'conj', 'copy', 'cos', 'cosh', 'count_nonzero', 'cross', 'cumprod', 'cumsum', 'diag', 'diagonal', 'diff', 'digitize', 'divide', 'divide_no_nan', 'dot', 'einsum', 'empty', 'equal', 'exp', 'exp2', 'expand_dims', 'expm1', 'eye', 'flip', 'floor', 'floor_divide', 'full', 'full_like', 'greater', 'greater_equal', 'hstack', 'identity', 'imag', 'isclose', 'isfinite', 'isinf', 'isnan', 'less', 'less_equal', 'linspace', 'log', 'log10', 'log1p', 'log2', 'logaddexp', 'logical_and', 'logical_not', 'logical_or', 'logical_xor', 'matmul', 'max', 'maximum', 'mean', 'median', 'meshgrid', 'min', 'minimum', 'mod', 'moveaxis', 'multiply', 'nan_to_num', 'ndim', 'negative', 'nonzero', 'not_equal', 'ones', 'ones_like', 'outer', 'pad', 'power', 'prod', 'quantile', 'ravel', 'real', 'reciprocal', 'repeat', 'reshape', 'roll', 'round', 'sign', 'sin', 'sinh', 'size', 'sort', 'split', 'sqrt', 'square', 'squeeze', 'stack', 'std', 'subtract', 'sum', 'swapaxes', 'take', 'take_along_axis', 'tan', 'tanh', 'tensordot', 'tile', 'trace', 'transpose', 'tri', 'tril', 'triu', 'true_divide', 'trunc', 'var', 'vdot', 'vstack', 'where', 'zeros', 'zeros_like']


def abs(x):
    """Element-wise absolute value."""
    return _state.ops.abs(x)


def absolute(x):
    """Element-wise absolute value."""
    return _state.ops.absolute(x)


def add(x1, x2):
    """Element-wise `x1 + x2`."""
    return _state.ops.add(x1, x2)


def all(x, axis=None, keepdims=False):
    """Logical AND reduction."""
    return _state.ops.all(x, axis=axis, keepdims=keepdims)


def any(x, axis=None, keepdims=False):
    """Logical OR reduction."""
    return _state.ops.any(x, axis=axis, keepdims=keepdims)


def amax(x, axis=None, keepdims=False):
    """Maximum along `axis`."""
    return _state.ops.amax(x, axis=axis, keepdims=keepdims)


def amin(x, axis=None, keepdims=False):
    """Minimum along `axis`."""
    return _state.ops.amin(x, axis=axis, keepdims=keepdims)


def append(x1, x2, axis=None):
    """Appends `x2` to `x1` along `axis` (flattened when None)."""
    return _state.ops.append(x1, x2, axis=axis)


def arange(start, stop=None, step=1, dtype=None):
    """Evenly spaced values in [start, stop)."""
    return _state.ops.arange(start, stop=stop, step=step, dtype=dtype)


def arccos(x):
    """Element-wise inverse cosine."""
    return _state.ops.arccos(x)


def arccosh(x):
    """Element-wise inverse hyperbolic cosine."""
    return _state.ops.arccosh(x)


def arcsin(x):
    """Element-wise inverse sine."""
    return _state.ops.arcsin(x)


def arcsinh(x):
    """Element-wise inverse hyperbolic sine."""
    return _state.ops.arcsinh(x)


def arctan(x):
    """Element-wise inverse tangent."""
    return _state.ops.arctan(x)


def arctan2(x1, x2):
    """Element-wise arc tangent of `x1 / x2` choosing the quadrant."""
    return _state.ops.arctan2(x1, x2)


def arctanh(x):
    """Element-wise inverse hyperbolic tangent."""
    return _state.ops.arctanh(x)


def argmax(x, axis=None, keepdims=False):
    """Indices of the maximum values along `axis`."""
    return _state.ops.argmax(x, axis=axis, keepdims=keepdims)


def argmin(x, axis=None, keepdims=False):
    """Indices of the minimum values along `axis`."""
    return _state.ops.argmin(x, axis=axis, keepdims=keepdims)


def argsort(x, axis=-1):
    """Indices that sort `x` along `axis`."""
    return _state.ops.argsort(x, axis=axis)


def array(x, dtype=None):
    """Creates a tensor from `x`."""
    return _state.ops.array(x, dtype=dtype)


def average(x, axis=None, weights=None):
    """Weighted average along `axis`."""
    return _state.ops.average(x, axis=axis, weights=weights)


def bincount(x, weights=None, minlength=0):
    """Counts occurrences of each value in a 1-D int tensor."""
    return _state.ops.bincount(x, weights=weights, minlength=minlength)


def bitwise_and(x, y):
    """Element-wise bitwise AND."""
    return _state.ops.bitwise_and(x, y)


def bitwise_or(x, y):
    """Element-wise bitwise OR."""
    return _state.ops.bitwise_or(x, y)


def bitwise_xor(x, y):
    """Element-wise bitwise XOR."""
    return _state.ops.bitwise_xor(x, y)


def bitwise_not(x):
    """Element-wise bitwise NOT."""
    return _state.ops.bitwise_not(x)


def left_shift(x, y):
    """Element-wise `x << y`."""
    return _state.ops.left_shift(x, y)


def right_shift(x, y):
    """Element-wise arithmetic `x >> y`."""
    return _state.ops.right_shift(x, y)


def broadcast_to(x, shape):
    """Broadcasts `x` to `shape`."""
    return _state.ops.broadcast_to(x, shape)


def ceil(x):
    """Element-wise ceiling."""
    return _state.ops.ceil(x)


def clip(x, x_min, x_max):
    """Clips values to [x_min, x_max]."""
    return _state.ops.clip(x, x_min, x_max)


def concatenate(xs, axis=0):
    """Joins a sequence of tensors along `axis`."""
    return _state.ops.concatenate(xs, axis=axis)


def conjugate(x):
    """Element-wise complex conjugate."""
    return _state.ops.conjugate(x)


def conj(x):
    """Element-wise complex conjugate."""
    return _state.ops.conj(x)


def copy(x):
    """Returns a copy of `x`."""
    return _state.ops.copy(x)


def cos(x):
    """Element-wise cosine."""
    return _state.ops.cos(x)


def cosh(x):
    """Element-wise hyperbolic cosine."""
    return _state.ops.cosh(x)


def count_nonzero(x, axis=None):
    """Counts non-zero values along `axis`."""
    return _state.ops.count_nonzero(x, axis=axis)


def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cross product of 3-vectors."""
    return _state.ops.cross(x1, x2, axisa=axisa, axisb=axisb, axisc=axisc, axis=axis)


def cumprod(x, axis=None, dtype=None):
    """Cumulative product along `axis` (flattened when None)."""
    return _state.ops.cumprod(x, axis=axis, dtype=dtype)


def cumsum(x, axis=None, dtype=None):
    """Cumulative sum along `axis` (flattened when None)."""
    return _state.ops.cumsum(x, axis=axis, dtype=dtype)


def diag(x, k=0):
    """Extracts a diagonal or builds a diagonal matrix."""
    return _state.ops.diag(x, k=k)


def diagonal(x, offset=0, axis1=0, axis2=1):
    """Returns the specified diagonals."""
    return _state.ops.diagonal(x, offset=offset, axis1=axis1, axis2=axis2)


def diff(a, n=1, axis=-1):
    """n-th discrete difference along `axis`."""
    return _state.ops.diff(a, n=n, axis=axis)


def digitize(x, bins):
    """Indices of the bins to which each value belongs."""
    return _state.ops.digitize(x, bins)


def divide(x1, x2):
    """Element-wise true division."""
    return _state.ops.divide(x1, x2)


def divide_no_nan(x1, x2):
    """Element-wise division returning 0 where `x2 == 0`."""
    return _state.ops.divide_no_nan(x1, x2)


def dot(x1, x2):
    """Dot product (matrix product for 2-D)."""
    return _state.ops.dot(x1, x2)


def einsum(subscripts, *operands):
    """Einstein summation."""
    return _state.ops.einsum(subscripts, *operands)


def empty(shape, dtype=None):
    """Uninitialized (here: zero) tensor of `shape`."""
    return _state.ops.empty(shape, dtype=dtype)


def equal(x1, x2):
    """Element-wise `x1 == x2`."""
    return _state.ops.equal(x1, x2)


def exp(x):
    """Element-wise exponential."""
    return _state.ops.exp(x)


def exp2(x):
    """Element-wise `2 ** x`."""
    return _state.ops.exp2(x)


def expand_dims(x, axis):
    """Inserts a size-1 axis at `axis` (an int or a tuple of ints)."""
    return _state.ops.expand_dims(x, axis)


def expm1(x):
    """Element-wise `exp(x) - 1`."""
    return _state.ops.expm1(x)


def eye(N, M=None, k=0, dtype=None):
    """2-D tensor with ones on the k-th diagonal."""
    return _state.ops.eye(N, M=M, k=k, dtype=dtype)


def flip(x, axis=None):
    """Reverses the order of elements along `axis`."""
    return _state.ops.flip(x, axis=axis)


def floor(x):
    """Element-wise floor."""
    return _state.ops.floor(x)


def floor_divide(x1, x2):
    """Element-wise floor division."""
    return _state.ops.floor_divide(x1, x2)


def full(shape, fill_value, dtype=None):
    """Tensor of `shape` filled with `fill_value`."""
    return _state.ops.full(shape, fill_value, dtype=dtype)


def full_like(x, fill_value, dtype=None):
    """Tensor like `x` filled with `fill_value`."""
    return _state.ops.full_like(x, fill_value, dtype=dtype)


def greater(x1, x2):
    """Element-wise `x1 > x2`."""
    return _state.ops.greater(x1, x2)


def greater_equal(x1, x2):
    """Element-wise `x1 >= x2`."""
    return _state.ops.greater_equal(x1, x2)


def hstack(xs):
    """Stacks tensors horizontally."""
    return _state.ops.hstack(xs)


def identity(n, dtype=None):
    """Identity matrix of size `n`."""
    return _state.ops.identity(n, dtype=dtype)


def imag(x):
    """Imaginary part."""
    return _state.ops.imag(x)


def isclose(x1, x2, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Element-wise closeness test."""
    return _state.ops.isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan)


def isfinite(x):
    """Element-wise finiteness test."""
    return _state.ops.isfinite(x)


def isinf(x):
    """Element-wise infinity test."""
    return _state.ops.isinf(x)


def isnan(x):
    """Element-wise NaN test."""
    return _state.ops.isnan(x)


def less(x1, x2):
    """Element-wise `x1 < x2`."""
    return _state.ops.less(x1, x2)


def less_equal(x1, x2):
    """Element-wise `x1 <= x2`."""
    return _state.ops.less_equal(x1, x2)


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """Evenly spaced numbers over an interval."""
    return _state.ops.linspace(start, stop, num=num, endpoint=endpoint, retstep=retstep, dtype=dtype, axis=axis)


def log(x):
    """Element-wise natural logarithm."""
    return _state.ops.log(x)


def log10(x):
    """Element-wise base-10 logarithm."""
    return _state.ops.log10(x)


def log1p(x):
    """Element-wise `log(1 + x)`."""
    return _state.ops.log1p(x)


def log2(x):
    """Element-wise base-2 logarithm."""
    return _state.ops.log2(x)


def logaddexp(x1, x2):
    """Element-wise `log(exp(x1) + exp(x2))`."""
    return _state.ops.logaddexp(x1, x2)


def logical_and(x1, x2):
    """Element-wise logical AND."""
    return _state.ops.logical_and(x1, x2)


def logical_not(x):
    """Element-wise logical NOT."""
    return _state.ops.logical_not(x)


def logical_or(x1, x2):
    """Element-wise logical OR."""
    return _state.ops.logical_or(x1, x2)


def logical_xor(x1, x2):
    """Element-wise logical XOR."""
    return _state.ops.logical_xor(x1, x2)


def matmul(x1, x2):
    """Matrix product with broadcasting of batch dimensions."""
    return _state.ops.matmul(x1, x2)


def max(x, axis=None, keepdims=False, initial=None):
    """Maximum along `axis`."""
    return _state.ops.max(x, axis=axis, keepdims=keepdims, initial=initial)


def maximum(x1, x2):
    """Element-wise maximum."""
    return _state.ops.maximum(x1, x2)


def mean(x, axis=None, keepdims=False):
    """Arithmetic mean along `axis`."""
    return _state.ops.mean(x, axis=axis, keepdims=keepdims)


def median(x, axis=None, keepdims=False):
    """Median along `axis`."""
    return _state.ops.median(x, axis=axis, keepdims=keepdims)


def meshgrid(*x, indexing="xy"):
    """Coordinate matrices from coordinate vectors."""
    return _state.ops.meshgrid(*x, indexing=indexing)


def min(x, axis=None, keepdims=False, initial=None):
    """Minimum along `axis`."""
    return _state.ops.min(x, axis=axis, keepdims=keepdims, initial=initial)


def minimum(x1, x2):
    """Element-wise minimum."""
    return _state.ops.minimum(x1, x2)


def mod(x1, x2):
    """Element-wise remainder with the sign of `x2`."""
    return _state.ops.mod(x1, x2)


def moveaxis(x, source, destination):
    """Moves axes to new positions."""
    return _state.ops.moveaxis(x, source, destination)


def multiply(x1, x2):
    """Element-wise `x1 * x2`."""
    return _state.ops.multiply(x1, x2)


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """Replaces NaN and infinities with finite numbers."""
    return _state.ops.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


def ndim(x):
    """Number of dimensions of `x`."""
    return _state.ops.ndim(x)


def negative(x):
    """Element-wise negation."""
    return _state.ops.negative(x)


def nonzero(x):
    """Indices of non-zero elements (eager only)."""
    return _state.ops.nonzero(x)


def not_equal(x1, x2):
    """Element-wise `x1 != x2`."""
    return _state.ops.not_equal(x1, x2)


def ones(shape, dtype=None):
    """Tensor of ones."""
    return _state.ops.ones(shape, dtype=dtype)


def ones_like(x, dtype=None):
    """Tensor of ones like `x`."""
    return _state.ops.ones_like(x, dtype=dtype)


def outer(x1, x2):
    """Outer product of two vectors."""
    return _state.ops.outer(x1, x2)


def pad(x, pad_width, mode="constant", constant_values=None):
    """Pads `x`; `pad_width` is a per-axis list of (before, after)."""
    return _state.ops.pad(x, pad_width, mode=mode, constant_values=constant_values)


def power(x1, x2):
    """Element-wise `x1 ** x2`."""
    return _state.ops.power(x1, x2)


def prod(x, axis=None, keepdims=False, dtype=None):
    """Product along `axis`."""
    return _state.ops.prod(x, axis=axis, keepdims=keepdims, dtype=dtype)


def quantile(x, q, axis=None, method="linear", keepdims=False):
    """q-th quantile along `axis`."""
    return _state.ops.quantile(x, q, axis=axis, method=method, keepdims=keepdims)


def ravel(x):
    """Flattens `x` to 1-D."""
    return _state.ops.ravel(x)


def real(x):
    """Real part."""
    return _state.ops.real(x)


def reciprocal(x):
    """Element-wise `1 / x`."""
    return _state.ops.reciprocal(x)


def repeat(x, repeats, axis=None):
    """Repeats elements of `x`."""
    return _state.ops.repeat(x, repeats, axis=axis)


def reshape(x, newshape):
    """Gives `x` a new shape (one entry may be -1)."""
    return _state.ops.reshape(x, newshape)


def roll(x, shift, axis=None):
    """Rolls elements along `axis`."""
    return _state.ops.roll(x, shift, axis=axis)


def round(x, decimals=0):
    """Rounds half to even."""
    return _state.ops.round(x, decimals=decimals)


def sign(x):
    """Element-wise sign."""
    return _state.ops.sign(x)


def sin(x):
    """Element-wise sine."""
    return _state.ops.sin(x)


def sinh(x):
    """Element-wise hyperbolic sine."""
    return _state.ops.sinh(x)


def size(x):
    """Number of elements in `x`."""
    return _state.ops.size(x)


def sort(x, axis=-1):
    """Sorts along `axis`."""
    return _state.ops.sort(x, axis=axis)


def split(x, indices_or_sections, axis=0):
    """Splits `x` into a list of tensors."""
    return _state.ops.split(x, indices_or_sections, axis=axis)


def sqrt(x):
    """Element-wise square root."""
    return _state.ops.sqrt(x)


def square(x):
    """Element-wise square."""
    return _state.ops.square(x)


def squeeze(x, axis=None):
    """Removes size-1 axes."""
    return _state.ops.squeeze(x, axis=axis)


def stack(x, axis=0):
    """Stacks a sequence of tensors along a new axis."""
    return _state.ops.stack(x, axis=axis)


def std(x, axis=None, keepdims=False):
    """Standard deviation along `axis`."""
    return _state.ops.std(x, axis=axis, keepdims=keepdims)


def subtract(x1, x2):
    """Element-wise `x1 - x2`."""
    return _state.ops.subtract(x1, x2)


def sum(x, axis=None, keepdims=False):
    """Sum along `axis`."""
    return _state.ops.sum(x, axis=axis, keepdims=keepdims)


def swapaxes(x, axis1, axis2):
    """Interchanges two axes."""
    return _state.ops.swapaxes(x, axis1, axis2)


def take(x, indices, axis=None):
    """Takes elements of `x` at `indices` along `axis` (flattened when None)."""
    return _state.ops.take(x, indices, axis=axis)


def take_along_axis(x, indices, axis=None):
    """Takes values at `indices` along `axis`."""
    return _state.ops.take_along_axis(x, indices, axis=axis)


def tan(x):
    """Element-wise tangent."""
    return _state.ops.tan(x)


def tanh(x):
    """Element-wise hyperbolic tangent."""
    return _state.ops.tanh(x)


def tensordot(x1, x2, axes=2):
    """Tensor dot product over `axes`."""
    return _state.ops.tensordot(x1, x2, axes=axes)


def tile(x, repeats):
    """Tiles `x` by `repeats`."""
    return _state.ops.tile(x, repeats)


def trace(x, offset=0, axis1=0, axis2=1):
    """Sum along diagonals."""
    return _state.ops.trace(x, offset=offset, axis1=axis1, axis2=axis2)


def transpose(x, axes=None):
    """Permutes axes."""
    return _state.ops.transpose(x, axes=axes)


def tri(N, M=None, k=0, dtype=None):
    """Ones at and below the k-th diagonal."""
    return _state.ops.tri(N, M=M, k=k, dtype=dtype)


def tril(x, k=0):
    """Lower triangle of `x`."""
    return _state.ops.tril(x, k=k)


def triu(x, k=0):
    """Upper triangle of `x`."""
    return _state.ops.triu(x, k=k)


def true_divide(x1, x2):
    """Element-wise true division."""
    return _state.ops.true_divide(x1, x2)


def trunc(x):
    """Element-wise truncation toward zero."""
    return _state.ops.trunc(x)


def var(x, axis=None, keepdims=False):
    """Variance along `axis`."""
    return _state.ops.var(x, axis=axis, keepdims=keepdims)


def vdot(x1, x2):
    """Dot product of flattened vectors."""
    return _state.ops.vdot(x1, x2)


def vstack(xs):
    """Stacks tensors vertically."""
    return _state.ops.vstack(xs)


def where(condition, x1=None, x2=None):
    """Chooses `x1` where `condition` else `x2`."""
    return _state.ops.where(condition, x1=x1, x2=x2)


def zeros(shape, dtype=None):
    """Tensor of zeros."""
    return _state.ops.zeros(shape, dtype=dtype)


def zeros_like(x, dtype=None):
    """Tensor of zeros like `x`."""
    return _state.ops.zeros_like(x, dtype=dtype)
