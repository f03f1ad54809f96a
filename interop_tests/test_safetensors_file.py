"""`kbridge.saving.save_safetensors` / `load_safetensors` against the `safetensors` package.

Keys are the structural variable paths, so a file equals the torch adapter's `state_dict()`;
files move both ways with `safetensors.torch` and `safetensors.numpy`; malformed files are
refused with the file and tensor named and the model left untouched; a failed save leaves the
previous file byte-identical.
"""

import json
import os
import struct

import numpy as np
import pytest

import kbridge
from kbridge import layers
from kbridge.backend import registry
from kbridge.saving import _atomic, load_safetensors, save_safetensors
from kbridge.saving.safetensors_file import read_safetensors

safetensors_numpy = pytest.importorskip("safetensors.numpy")

TARGETS = [n for n in ("numpy", "jax", "tensorflow") if registry.is_installed(n)]
EXACT_BACKENDS = [n for n in ("numpy", "torch", "tensorflow") if registry.is_installed(n)]  # float64/int64 kept


def _mlp(backend, units=8):
    """Embedding, LayerNormalization, Dense, BatchNormalization (buffers) and Dropout (seed state)."""
    with kbridge.backend.use(backend):
        tokens = layers.Input((3,), dtype="int32")
        feats = layers.Input((4,))
        e = layers.Flatten()(layers.LayerNormalization()(layers.Embedding(10, 2)(tokens)))
        f = layers.BatchNormalization()(layers.Dense(6, activation="relu")(feats))
        x = layers.Dropout(0.3)(layers.Concatenate()([e, f]))
        outputs = layers.Dense(units)(x)
        return kbridge.Model([tokens, feats], outputs)


def _inputs(n=5, seed=0):
    rng = np.random.RandomState(seed)
    return [rng.randint(0, 10, size=(n, 3)).astype("int32"), rng.randn(n, 4).astype("float32")]


def _snapshot(model):
    return {path: variable.numpy() for path, variable in model.named_variables()}


def _assert_unchanged(model, before):
    after = _snapshot(model)
    assert list(after) == list(before)
    for path in before:
        np.testing.assert_array_equal(after[path], before[path], err_msg=path)


def _randomize(model, seed=1):
    """Distinct values everywhere (BatchNormalization variance kept positive)."""
    rng = np.random.RandomState(seed)
    for path, variable in model.named_variables():
        if dtype_is_float(variable.dtype):
            values = rng.uniform(0.5, 1.5, variable.shape) if "variance" in path else rng.randn(*variable.shape)
            variable.assign(values.astype(variable.dtype))


def dtype_is_float(name):
    return name in ("float16", "bfloat16", "float32", "float64")


# -- (1) kbridge -> file -> safetensors.torch ------------------------------------------------------


def test_file_equals_torch_state_dict(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file

    from kbridge.adapters.torch import to_module

    model = _mlp("torch")
    _randomize(model)
    model(_inputs(), training=True)  # moves BatchNormalization statistics and the seed state
    path = tmp_path / "m.safetensors"
    save_safetensors(model, path, metadata={"format": "pt", "source": "kbridge"})
    expected = to_module(model).state_dict()
    loaded = load_file(str(path))
    assert set(loaded) == set(expected)
    assert [p for p, _ in model.named_variables()] == list(expected)  # the same naming scheme, same order
    assert any(k.endswith("seed_generator.state") for k in loaded) and any(k.endswith("moving_mean") for k in loaded)
    for key, tensor in expected.items():
        assert loaded[key].dtype == tensor.dtype, key
        assert loaded[key].shape == tensor.shape, key
        assert torch.equal(loaded[key], tensor.detach()), key
    with open(path, "rb") as file:
        (length,) = struct.unpack("<Q", file.read(8))
        header = json.loads(file.read(length))
    assert header["__metadata__"] == {"format": "pt", "source": "kbridge"}
    assert (8 + length) % 8 == 0  # data section aligned as safetensors writes it
    assert read_safetensors(path)[1] == {"format": "pt", "source": "kbridge"}


# -- (2) torch state_dict -> file -> kbridge on other backends -------------------------------------


@pytest.mark.parametrize("target", TARGETS)
def test_torch_state_dict_loads_and_predicts_the_same(tmp_path, target):
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    from kbridge.adapters.torch import to_module

    module = to_module(_mlp("torch"))
    # A native torch training step changes parameters and BatchNormalization buffers.
    optimizer = torch.optim.SGD(module.parameters(), lr=0.1)
    module.train()
    tokens, feats = (torch.from_numpy(a) for a in _inputs(seed=3))
    module(tokens, feats).square().mean().backward()
    optimizer.step()
    module.eval()
    x = _inputs(seed=4)
    with torch.no_grad():
        expected = module(*(torch.from_numpy(a) for a in x)).numpy()
    path = tmp_path / "torch.safetensors"
    save_file({k: v.detach().contiguous() for k, v in module.state_dict().items()}, str(path), metadata={"format": "pt"})

    fresh = _mlp(target)
    before = np.asarray(fresh(x))
    assert not np.allclose(before, expected, atol=1e-3)  # a fresh model really predicts otherwise
    result = load_safetensors(fresh, path)
    assert result == ([], []) and result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_allclose(np.asarray(fresh(x)), expected, rtol=1e-5, atol=1e-5)


# -- (3) safetensors.numpy interop, dtypes ---------------------------------------------------------

DTYPES = ("float64", "float16", "bfloat16", "float32", "int64", "int32", "int16", "int8", "uint8", "bool")


class Mixed(layers.Layer):
    """One non-trainable weight per dtype; the call is the identity."""

    def build(self, input_shape):
        for dtype in DTYPES:
            setattr(self, dtype, self.add_weight((2, 3), initializer="zeros", dtype=dtype, trainable=False, name=dtype))

    def call(self, x):
        return x


def _mixed(backend):
    with kbridge.backend.use(backend):
        layer = Mixed(name="mixed")
        layer(np.zeros((1, 3), "float32"))
    return layer


def _values(seed):
    import ml_dtypes

    rng = np.random.RandomState(seed)
    out = {}
    for dtype in DTYPES:
        if dtype == "bool":
            out[dtype] = rng.rand(2, 3) > 0.5
        elif dtype in ("float64", "float32", "float16"):
            out[dtype] = rng.randn(2, 3).astype(dtype)
        elif dtype == "bfloat16":
            out[dtype] = rng.randn(2, 3).astype(ml_dtypes.bfloat16)
        else:
            out[dtype] = rng.randint(-100 if dtype[0] == "i" else 0, 100, size=(2, 3)).astype(dtype)
    return out


@pytest.mark.parametrize("backend", EXACT_BACKENDS)
def test_numpy_interop_all_dtypes(tmp_path, backend):
    layer = _mixed(backend)
    values = _values(seed=2)
    for dtype, value in values.items():
        getattr(layer, dtype).assign(value)
    out = tmp_path / "out.safetensors"
    save_safetensors(layer, out)
    loaded = safetensors_numpy.load_file(str(out))
    assert set(loaded) == set(DTYPES)
    for dtype, value in values.items():
        assert loaded[dtype].dtype.name == dtype, dtype
        assert loaded[dtype].tobytes() == value.tobytes(), dtype  # bit-exact, bfloat16 included

    other = _values(seed=5)
    source = tmp_path / "in.safetensors"
    safetensors_numpy.save_file(other, str(source))
    fresh = _mixed(backend)
    assert load_safetensors(fresh, source) == ([], [])
    for dtype, value in other.items():
        received = getattr(fresh, dtype)
        assert received.dtype == dtype, dtype
        if dtype == "bfloat16":  # the torch backend hands bfloat16 out as float32 (exactly)
            np.testing.assert_array_equal(received.numpy().astype("float32"), value.astype("float32"))
        else:
            assert received.numpy().dtype.name == dtype, dtype
            assert received.numpy().tobytes() == value.tobytes(), dtype


def test_jax_narrows_floats_and_refuses_other_int_widths(tmp_path):
    """Without x64, jax keeps float64/int64 weights as float32/int32: floats cast, ints must match."""
    if not registry.is_installed("jax"):
        pytest.skip("jax is not importable here")
    layer = _mixed("jax")
    values = _values(seed=6)
    source = tmp_path / "in.safetensors"
    safetensors_numpy.save_file(values, str(source))
    if layer.int64.dtype == "int64":
        pytest.skip("jax runs with x64 enabled")
    before = _snapshot(layer)
    with pytest.raises(ValueError, match=r"int64: dtype mismatch, expected int32 \(model\), received int64 \(file\)"):
        load_safetensors(layer, source)
    _assert_unchanged(layer, before)
    del values["int64"]
    safetensors_numpy.save_file(values, str(source))
    assert load_safetensors(layer, source, strict=False) == (["int64"], [])
    np.testing.assert_array_equal(layer.float64.numpy(), values["float64"].astype("float32"))
    assert layer.bfloat16.numpy().tobytes() == values["bfloat16"].tobytes()


def test_floats_cast_to_the_variable_dtype(tmp_path):
    import ml_dtypes

    layer = _mixed("numpy")
    values = {d: np.asarray(v) for d, v in _values(seed=7).items()}
    swapped = dict(values)
    swapped["float16"] = values["float64"]  # F64 -> float16 variable
    swapped["float64"] = values["bfloat16"]  # BF16 -> float64 variable (exact)
    swapped["bfloat16"] = values["float32"]  # F32 -> bfloat16 variable (rounded)
    source = tmp_path / "cast.safetensors"
    safetensors_numpy.save_file(swapped, str(source))
    load_safetensors(layer, source)
    np.testing.assert_array_equal(layer.float16.numpy(), values["float64"].astype("float16"))
    np.testing.assert_array_equal(layer.float64.numpy(), values["bfloat16"].astype("float64"))
    assert layer.bfloat16.numpy().tobytes() == values["float32"].astype(ml_dtypes.bfloat16).tobytes()


def test_non_float_dtypes_are_not_cast(tmp_path):
    layer = _mixed("numpy")
    values = _values(seed=8)
    values["int32"] = values["float32"]  # a float file tensor into an int variable
    values["float32"] = values["int16"].astype("int32")  # an int file tensor into a float variable
    source = tmp_path / "bad.safetensors"
    safetensors_numpy.save_file(values, str(source))
    before = _snapshot(layer)
    with pytest.raises(ValueError) as info:
        load_safetensors(layer, source)
    message = str(info.value)
    assert "int32: dtype mismatch, expected int32 (model), received float32 (file)" in message
    assert "float32: dtype mismatch, expected float32 (model), received int32 (file)" in message
    _assert_unchanged(layer, before)


# -- (4) bad files ---------------------------------------------------------------------------------


@pytest.fixture
def saved(tmp_path):
    """A model on numpy, its valid file, and a fresh model that the bad files must leave unchanged."""
    source = _mlp("numpy")
    _randomize(source, seed=11)
    path = tmp_path / "good.safetensors"
    save_safetensors(source, path)
    target = _mlp("numpy")
    return path, target, _snapshot(target)


def _parts(path):
    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8 : 8 + length]), raw[8 + length :]


def _write(path, header, data):
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)


def _kernel(header):
    return next(k for k in header if k.endswith("kernel"))


def _case_truncated(path):
    path.write_bytes(path.read_bytes()[:-5])
    return r"data_offsets .* out of range; the data section has"


def _case_too_short(path):
    path.write_bytes(b"\x10\x00\x00")
    return r"shorter than the 8-byte header length"


def _case_header_past_end(path):
    raw = path.read_bytes()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw[8:])
    return r"header length \d+ runs past the end of the file"


def _case_bad_json(path):
    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    path.write_bytes(raw[:8] + b"{" + raw[9 : 8 + length].replace(b":", b";", 1) + raw[8 + length :])
    return r"the header is not valid JSON"


def _case_not_an_object(path):
    _write(path, [1, 2], b"")
    return r"the header must be a JSON object, received list"


def _case_overlap(path):
    header, data = _parts(path)
    entries = sorted(((v["data_offsets"], k) for k, v in header.items()))
    (first, _), (second, key) = entries[0], entries[1]
    assert first[1] > first[0] and second[1] > second[0]
    size = second[1] - second[0]
    header[key]["data_offsets"] = [first[0], first[0] + size]
    _write(path, header, data)
    return r"tensor '[\w.]+': data_offsets \[\d+, \d+\] overlap tensor '[\w.]+' \(which ends at \d+\)"


def _case_out_of_range(path):
    header, data = _parts(path)
    key = _kernel(header)
    begin, end = header[key]["data_offsets"]
    header[key]["data_offsets"] = [begin + len(data), end + len(data)]
    _write(path, header, data)
    return rf"tensor '{key}': data_offsets .* out of range"


def _case_offsets_disagree_with_shape(path):
    header, data = _parts(path)
    key = _kernel(header)
    header[key]["shape"] = [header[key]["shape"][0] + 1, *header[key]["shape"][1:]]
    _write(path, header, data)
    return rf"tensor '{key}': data_offsets .* span \d+ bytes, but dtype F32 x shape .* needs \d+"


def _case_unknown_dtype(path):
    header, data = _parts(path)
    key = _kernel(header)
    header[key]["dtype"] = "F8_E4M3"
    _write(path, header, data)
    return rf"tensor '{key}': unsupported dtype 'F8_E4M3'"


def _case_gap(path):
    header, data = _parts(path)
    for info in header.values():
        info["data_offsets"] = [o + 4 for o in info["data_offsets"]]
    _write(path, header, b"\x00" * 4 + data)
    return r"a gap of 4 bytes precedes its data"


def _case_bad_bool(path):
    _write(path, {"flag": {"dtype": "BOOL", "shape": [2], "data_offsets": [0, 2]}}, b"\x01\x07")
    return r"tensor 'flag': a BOOL tensor holds bytes other than 0 and 1"


BAD_FILES = [f for name, f in sorted(globals().items()) if name.startswith("_case_")]


@pytest.mark.parametrize("corrupt", BAD_FILES, ids=lambda f: f.__name__[6:])
@pytest.mark.parametrize("strict", [True, False])
def test_bad_files_are_refused_and_change_nothing(saved, corrupt, strict):
    path, target, before = saved
    pattern = corrupt(path)
    with pytest.raises(ValueError, match=pattern) as info:
        load_safetensors(target, path, strict=strict)
    assert str(path) in str(info.value)
    _assert_unchanged(target, before)


def test_mutated_files_raise_value_error_or_load_whole(saved):
    """Random truncations and byte flips: only ValueError (model untouched) or a complete load."""
    path, target, before = saved
    raw = path.read_bytes()
    rng = np.random.RandomState(0)
    outcomes = {"refused": 0, "loaded": 0}
    for _ in range(400):
        data = bytearray(raw)
        if rng.rand() < 0.3:
            data = data[: rng.randint(len(data))]
        else:
            span = len(data) if rng.rand() < 0.3 else 8 + 600  # anywhere, or in the header
            for _ in range(rng.randint(1, 4)):
                data[rng.randint(span)] ^= 1 << rng.randint(8)
        path.write_bytes(bytes(data))
        try:
            load_safetensors(target, path)
        except ValueError:
            outcomes["refused"] += 1
            _assert_unchanged(target, before)
        else:  # a flip inside the tensor data: every variable was assigned from the file
            outcomes["loaded"] += 1
            loaded = read_safetensors(path)[0]
            for key, variable in target.named_variables():
                assert variable.numpy().tobytes() == loaded[key][1].tobytes(), key
                variable.assign(before[key])
    assert outcomes["refused"] > 200 and outcomes["loaded"] > 0, outcomes


def test_wrong_shape_names_path_expected_and_received(tmp_path):
    source = _mlp("numpy", units=3)
    path = tmp_path / "wide.safetensors"
    save_safetensors(source, path)
    target = _mlp("numpy", units=2)
    before = _snapshot(target)
    kernel, bias = [p for p, _ in target.named_variables()][-2:]
    for strict in (True, False):  # as torch: shape mismatches raise in both modes
        with pytest.raises(ValueError) as info:
            load_safetensors(target, path, strict=strict)
        message = str(info.value)
        assert f"{kernel}: shape mismatch, expected (12, 2) (model), received (12, 3) (file)" in message
        assert f"{bias}: shape mismatch, expected (2,) (model), received (3,) (file)" in message
        assert str(path) in message and "nothing was changed" in message
        _assert_unchanged(target, before)


def test_missing_and_unexpected_keys_strict_and_non_strict(tmp_path):
    source = _mlp("numpy")
    _randomize(source, seed=12)
    good = tmp_path / "good.safetensors"
    save_safetensors(source, good)
    arrays = safetensors_numpy.load_file(str(good))
    dropped = [k for k in arrays if k.endswith("moving_mean")][0]
    del arrays[dropped]
    arrays["extra.weight"] = np.ones(3, "float32")
    path = tmp_path / "partial.safetensors"
    safetensors_numpy.save_file(arrays, str(path))

    target = _mlp("numpy")
    before = _snapshot(target)
    with pytest.raises(ValueError) as info:
        load_safetensors(target, path)
    message = str(info.value)
    assert f"missing keys (in the model, not in the file): ['{dropped}']" in message
    assert "unexpected keys (in the file, not in the model): ['extra.weight']" in message
    _assert_unchanged(target, before)

    result = load_safetensors(target, path, strict=False)
    assert result == ([dropped], ["extra.weight"])
    for key, variable in target.named_variables():
        expected = before[key] if key == dropped else arrays[key]
        np.testing.assert_array_equal(variable.numpy(), expected, err_msg=key)

    pytest.importorskip("torch")
    from safetensors.torch import load_file

    from kbridge.adapters.torch import to_module

    # The same answer torch gives for the same file.
    native = to_module(_mlp("torch")).load_state_dict(load_file(str(path)), strict=False)
    assert (native.missing_keys, native.unexpected_keys) == (result.missing_keys, result.unexpected_keys)


def test_unbuilt_model_and_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="not yet been built"):
        save_safetensors(layers.Dense(2), tmp_path / "x.safetensors")
    model = _mlp("numpy")
    with pytest.raises(TypeError, match="metadata"):
        save_safetensors(model, tmp_path / "x.safetensors", metadata={"epoch": 3})
    with pytest.raises(FileNotFoundError):
        load_safetensors(model, tmp_path / "absent.safetensors")
    assert not os.path.exists(tmp_path / "x.safetensors")


# -- (5) atomic writes -----------------------------------------------------------------------------


def test_failed_save_leaves_previous_file_byte_identical(tmp_path, monkeypatch):
    model = _mlp("numpy")
    path = tmp_path / "m.safetensors"
    save_safetensors(model, path)
    original = path.read_bytes()
    _randomize(model, seed=13)

    def broken_fsync(descriptor):
        raise OSError("disk full")

    monkeypatch.setattr(_atomic.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        save_safetensors(model, path)
    assert path.read_bytes() == original
    assert os.listdir(tmp_path) == ["m.safetensors"]  # no temporary file left behind

    monkeypatch.undo()
    save_safetensors(model, path)
    assert path.read_bytes() != original
    assert os.listdir(tmp_path) == ["m.safetensors"]


def test_failed_read_of_a_variable_writes_nothing(tmp_path, monkeypatch):
    model = _mlp("numpy")
    path = tmp_path / "m.safetensors"
    save_safetensors(model, path)
    original = path.read_bytes()
    variable = model.named_variables()[-1][1]

    def broken_numpy():
        raise RuntimeError("device lost")

    monkeypatch.setattr(variable, "numpy", broken_numpy)
    with pytest.raises(RuntimeError, match="device lost"):
        save_safetensors(model, path)
    assert path.read_bytes() == original
    assert os.listdir(tmp_path) == ["m.safetensors"]


def test_saved_file_gets_the_usual_permissions(tmp_path):
    # The atomic write goes through mkstemp (mode 0600); the result must not stay private.
    model = _mlp("numpy")
    path = tmp_path / "m.safetensors"
    save_safetensors(model, path)
    mask = os.umask(0)
    os.umask(mask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~mask
