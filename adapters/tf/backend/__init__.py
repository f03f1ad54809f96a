"""The TensorFlow backend: `kbridge.ops` implemented with TensorFlow (contract: kbridge/backend/README.md).

Every op accepts `tf.Tensor`s, `tf.Variable`s, `kbridge.Variable`s, NumPy arrays,
Python scalars and lists, follows Keras 3's dtype promotion, and works inside
`tf.function` with unknown dimensions.
"""

import builtins

import tensorflow as tf

# Modules by private names: the `conv` op replaces the `conv` submodule attribute below.
from kbridge.adapters.tf.backend import conv as _conv
from kbridge.adapters.tf.backend import core as _core
from kbridge.adapters.tf.backend import math_ops as _math_ops
from kbridge.adapters.tf.backend import nn as _nn
from kbridge.adapters.tf.backend import numpy_elementwise as _numpy_elementwise
from kbridge.adapters.tf.backend import numpy_reduce as _numpy_reduce
from kbridge.adapters.tf.backend import numpy_shape as _numpy_shape
from kbridge.adapters.tf.backend.conv import *  # noqa: F403
from kbridge.adapters.tf.backend.core import *  # noqa: F403
from kbridge.adapters.tf.backend.math_ops import *  # noqa: F403
from kbridge.adapters.tf.backend.nn import *  # noqa: F403
from kbridge.adapters.tf.backend.numpy_elementwise import *  # noqa: F403
from kbridge.adapters.tf.backend.numpy_reduce import *  # noqa: F403
from kbridge.adapters.tf.backend.numpy_shape import *  # noqa: F403
from kbridge.adapters.tf.backend.image import affine_transform, resize

NAME = "tensorflow"

# EagerTensor and the graph-mode SymbolicTensor both subclass tf.Tensor;
# ResourceVariable (and distributed variables) subclass tf.Variable.
TENSOR_TYPES = (tf.Tensor, tf.Variable, tf.IndexedSlices)


def variable_storage(value, trainable):
    """Returns a `tf.Variable` holding `value`, to be a `kbridge.Variable`'s storage."""
    return tf.Variable(value, trainable=trainable)


def variable_assign(storage, value):
    """Assigns `value` to the `tf.Variable` `storage` in place and returns `storage`."""
    storage.assign(value)
    return storage


def _skip_autograph():
    # kbridge code is written against kbridge.ops (tf.cond/tf.while_loop through
    # ops.cond/ops.while_loop), so AutoGraph need not rewrite it inside
    # tf.function, as for Keras itself. The rule list is TensorFlow-internal.
    try:
        from tensorflow.python.autograph.core import config as autograph_config
        from tensorflow.python.autograph.core import config_lib
    except ImportError:
        return
    rule = config_lib.DoNotConvert("kbridge")
    if not builtins.any(getattr(r, "_prefix", None) == "kbridge" for r in autograph_config.CONVERSION_RULES):
        autograph_config.CONVERSION_RULES = (rule,) + tuple(autograph_config.CONVERSION_RULES)


_skip_autograph()

# Optional hook (not an op): fused updates for built-in optimizers.
from kbridge.adapters.tf.backend.optimizer_kernels import kernel_for as optimizer_kernel  # noqa: E402,F401

__all__ = ["NAME", "TENSOR_TYPES", "variable_assign", "variable_storage"]
for _module in (_conv, _core, _math_ops, _nn, _numpy_elementwise, _numpy_reduce, _numpy_shape):
    __all__ += _module.__all__
del _module
__all__ += ["affine_transform", "resize"]


def is_concrete(x):
    """Whether `x` holds values now (eager execution, not a tf.function graph)."""
    return tf.executing_eagerly()


def _let_tensorflow_differentiate_kbridge_variables():
    # `tape.gradient(loss, model.trainable_variables)` in a native TF train_step:
    # GradientTape treats objects carrying `_should_act_as_resource_variable` as
    # resource variables and differentiates through their `handle`.
    from kbridge.variables import Variable

    def handle(self):
        storage = self._value
        if not isinstance(storage, tf.Variable):
            raise AttributeError(f"Variable {self.path} lives on {self.backend}, not tensorflow: it has no handle.")
        return storage.handle

    Variable._should_act_as_resource_variable = True
    Variable.handle = property(handle)

    # `tf_tensor * variable` (in graphs too) reads the value instead of going through NumPy.
    def convert(value, dtype=None, name=None, as_ref=False):
        return tf.convert_to_tensor(value.value, dtype=dtype, name=name)

    tf.register_tensor_conversion_function(Variable, convert)


_let_tensorflow_differentiate_kbridge_variables()
