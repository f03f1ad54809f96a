"""The PyTorch backend: every op of `kbridge.ops` on `torch.Tensor`s (contract: kbridge/backend/README.md).

Modules: `core` (conversion, control flow, variables), `numpy_math` (element-wise),
`numpy_reduce` (reductions), `numpy_array` (creation, shapes, indexing, products),
`numpy_stats` (sorting, statistics), `nn` (activations, losses, normalization, attention),
`convolution` (convolution and pooling), `math_ops`.
"""

from kbridge.adapters.torch.backend import (
    convolution,
    core,
    math_ops,
    nn,
    numpy_array,
    numpy_math,
    numpy_reduce,
    numpy_stats,
)
from kbridge.adapters.torch.backend.convolution import *  # noqa: F403
from kbridge.adapters.torch.backend.core import *  # noqa: F403
from kbridge.adapters.torch.backend.math_ops import *  # noqa: F403
from kbridge.adapters.torch.backend.nn import *  # noqa: F403
from kbridge.adapters.torch.backend.numpy_array import *  # noqa: F403
from kbridge.adapters.torch.backend.numpy_math import *  # noqa: F403
from kbridge.adapters.torch.backend.numpy_reduce import *  # noqa: F403
from kbridge.adapters.torch.backend.numpy_stats import *  # noqa: F403
from kbridge.adapters.torch.backend.image import affine_transform, resize

# Optional hooks (not ops): fused in-place updates for built-in optimizers; whole-sequence RNN kernels;
# Dense's matmul + bias as one addmm; LayerNormalization as one layer_norm.
from kbridge.adapters.torch.backend.fused_dense import fused_dense  # noqa: E402,F401
from kbridge.adapters.torch.backend.fused_einsum_dense import fused_einsum_dense  # noqa: E402,F401
from kbridge.adapters.torch.backend.fused_norm import fused_layer_norm  # noqa: E402,F401
from kbridge.adapters.torch.backend.fused_rnn import fused_gru, fused_lstm  # noqa: E402,F401
from kbridge.adapters.torch.backend.nn import fused_sparse_crossentropy_mean  # noqa: E402,F401
from kbridge.adapters.torch.backend.core import variable_assign_add  # noqa: E402,F401
from kbridge.adapters.torch.backend.optimizer_kernels import kernel_for as optimizer_kernel  # noqa: E402,F401

__all__ = (
    core.__all__
    + numpy_math.__all__
    + numpy_reduce.__all__
    + numpy_array.__all__
    + numpy_stats.__all__
    + nn.__all__
    + convolution.__all__
    + math_ops.__all__
    + ["affine_transform", "resize"]
)


def is_concrete(x):
    """Whether `x` holds readable values now: eager, on the CPU (no device sync), not
    inside torch.compile or a torch.func transform."""
    import torch

    if torch.compiler.is_compiling() or not isinstance(x, torch.Tensor) or x.device.type != "cpu":
        return False
    return not torch._C._functorch.is_functorch_wrapped_tensor(x)
