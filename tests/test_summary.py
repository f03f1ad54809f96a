"""`model.summary()`: rows, shapes, parameter counts, totals and options."""

import pytest

from kbridge import config, layers
from kbridge.models import Model, Sequential
from kbridge.utils import summary_utils


@pytest.fixture(autouse=True)
def numpy_backend():
    previous = config.backend()
    config.set_backend("numpy")
    yield
    config.set_backend(previous)


def capture(model, **kwargs):
    printed = []
    model.summary(print_fn=printed.append, **kwargs)
    assert len(printed) == 1
    return printed[0]


def row(text, start):
    prefixes = ("│ " + start, "│    └ " + start)
    return next(line for line in text.splitlines() if line.startswith(prefixes))


def test_sequential_summary_rows_and_totals():
    model = Sequential(
        [layers.Input((3,)), layers.Dense(4, name="hidden"), layers.BatchNormalization(name="bn"), layers.Dense(2, name="out")],
        name="mlp",
    )
    text = capture(model, line_length=90)
    lines = text.splitlines()
    assert lines[0] == 'Model: "mlp"'
    assert "Layer (type)" in lines[2] and "Output Shape" in lines[2] and "Param #" in lines[2]
    assert "Connected to" not in text and "InputLayer" not in text
    hidden = row(text, "hidden (Dense)")
    assert "(None, 4)" in hidden and hidden.rstrip("│ ").endswith("16")
    assert row(text, "bn (BatchNormalization)").rstrip("│ ").endswith("16")
    assert row(text, "out (Dense)").rstrip("│ ").endswith("10")
    assert " Total params: 42 (168.00 B)" in lines
    assert " Trainable params: 34 (136.00 B)" in lines
    assert " Non-trainable params: 8 (32.00 B)" in lines
    assert all(len(line) <= 90 for line in lines[1:-3])


def test_functional_summary_connections_and_ops():
    a, b = layers.Input((3,), name="a"), layers.Input((3,), name="b")
    shared = layers.Dense(2, name="shared")
    merged = layers.Concatenate(name="cat")([shared(a), shared(b)])
    model = Model([a, b], merged + 1.0, name="graph")
    text = capture(model, line_length=120)
    assert "Connected to" in text
    assert "a (InputLayer)" in text and "b (InputLayer)" in text
    assert "shared[0][0], shared[1][0]" in row(text, "cat (Concatenate)")
    assert "a[0][0], b[0][0]" in row(text, "shared (Dense)")
    add_row = row(text, "add")
    assert "(Add)" in add_row and "cat[0][0]" in add_row and "(None, 4)" in add_row
    assert " Total params: 8 (32.00 B)" in text.splitlines()


def test_expand_nested_show_trainable_and_layer_range():
    inner = Sequential([layers.Input((3,)), layers.Dense(4, name="inner_dense")], name="inner")
    frozen = layers.Dense(2, name="frozen")
    frozen.trainable = False
    model = Sequential([inner, frozen, layers.Dropout(0.1, name="drop")], name="outer")
    text = capture(model, expand_nested=True, show_trainable=True, line_length=110)
    assert "Trainable" in text.splitlines()[2]
    nested = row(text, "inner_dense (Dense)")
    assert nested.startswith("│    └ inner_dense") and "16" in nested
    assert row(text, "frozen (Dense)").rstrip("│ ").endswith("N")
    assert row(text, "inner (Sequential)").rstrip("│ ").endswith("Y")
    assert row(text, "drop (Dropout)").rstrip("│ ").endswith("-")
    assert " Non-trainable params: 10 (40.00 B)" in text.splitlines()
    only = capture(model, layer_range=["frozen", "drop"])
    assert "inner (Sequential)" not in only and "frozen (Dense)" in only and "drop (Dropout)" in only
    with pytest.raises(ValueError, match="layer_range"):
        capture(model, layer_range=["nothing", "drop"])


def test_unbuilt_and_subclassed_models():
    model = Sequential([layers.Dense(2, name="later")], name="lazy")
    text = capture(model)
    assert "0 (unbuilt)" in row(text, "later (Dense)") and "?" in row(text, "later (Dense)")
    assert " Total params: 0 (0.00 B)" in text.splitlines()

    class Two(Model):
        def __init__(self):
            super().__init__(name="two")
            self.first = layers.Dense(3, name="first")
            self.second = layers.Dense(1, name="second")

        def call(self, x):
            return self.second(self.first(x))

    sub = Two()
    sub.build((None, 5))
    text = capture(sub)
    assert row(text, "first (Dense)").rstrip("│ ").endswith("18")
    assert "(None, 3)" in row(text, "first (Dense)")
    assert " Total params: 22 (88.00 B)" in text.splitlines()


def test_default_print_and_helpers(capsys):
    Sequential([layers.Input((2,)), layers.Dense(1)], name="printed").summary()
    assert 'Model: "printed"' in capsys.readouterr().out
    assert summary_utils.readable_memory_size(1536) == "1.50 KB"
    assert summary_utils.readable_memory_size(12) == "12.00 B"
