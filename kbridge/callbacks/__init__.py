"""`kbridge.callbacks`: hooks into fit/evaluate/predict (Keras 3 names)."""

from kbridge.callbacks.backup_and_restore import BackupAndRestore
from kbridge.callbacks.callback import Callback
from kbridge.callbacks.callback_list import CallbackList
from kbridge.callbacks.csv_logger import CSVLogger
from kbridge.callbacks.early_stopping import EarlyStopping
from kbridge.callbacks.history import History
from kbridge.callbacks.lambda_callback import LambdaCallback
from kbridge.callbacks.learning_rate_scheduler import LearningRateScheduler
from kbridge.callbacks.model_checkpoint import ModelCheckpoint
from kbridge.callbacks.monitor_callback import MonitorCallback
from kbridge.callbacks.progbar_logger import ProgbarLogger
from kbridge.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from kbridge.callbacks.tensorboard import TensorBoard
from kbridge.callbacks.terminate_on_nan import TerminateOnNaN

__all__ = [
    "BackupAndRestore",
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "MonitorCallback",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "TensorBoard",
    "TerminateOnNaN",
]
