"""Recurrent layers: cells, `RNN`, `SimpleRNN`, `LSTM`, `GRU`, `Bidirectional`, `TimeDistributed`."""

from kbridge.layers.rnn.bidirectional import Bidirectional
from kbridge.layers.rnn.conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from kbridge.layers.rnn.conv_lstm_cell import ConvLSTMCell
from kbridge.layers.rnn.gru import GRU, GRUCell
from kbridge.layers.rnn.lstm import LSTM, LSTMCell
from kbridge.layers.rnn.rnn import RNN
from kbridge.layers.rnn.simple_rnn import SimpleRNN, SimpleRNNCell
from kbridge.layers.rnn.stacked_rnn_cells import StackedRNNCells
from kbridge.layers.rnn.time_distributed import TimeDistributed

__all__ = [
    "Bidirectional", "GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "SimpleRNN", "SimpleRNNCell", "StackedRNNCells",
    "TimeDistributed", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "ConvLSTMCell",
]  # fmt: skip
