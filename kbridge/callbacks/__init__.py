"""`kbridge.callbacks`: hooks into fit/evaluate/predict (Keras 3 names)."""

from kbridge.callbacks.callback import Callback
from kbridge.callbacks.callback_list import CallbackList
from kbridge.callbacks.history import History
from kbridge.callbacks.progbar_logger import ProgbarLogger

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger"]
