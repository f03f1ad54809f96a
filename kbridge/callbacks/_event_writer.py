"""A minimal TensorBoard event-file writer: TFRecord framing of `Event` protobufs, stdlib only.

An event file is a sequence of records, each

    uint64 length | uint32 masked_crc32c(length) | payload | uint32 masked_crc32c(payload)

(little-endian), where the payload is a serialized `tensorflow.Event`. The first event
carries `file_version = "brain.Event:2"`; scalars are written as TF2's `tf.summary.scalar`
writes them: a float32 scalar `TensorProto` with "scalars" plugin metadata.

The few protobuf messages needed are encoded by hand (field numbers from
tensorflow/core/util/event.proto, framework/summary.proto, tensor.proto).
"""

import os
import socket
import struct
import time

# -- CRC32C (Castagnoli), as TFRecord uses --------------------------------------------------


def _make_crc_table():
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _make_crc_table()


def crc32c(data):
    """The CRC-32C checksum of `data` (bytes)."""
    crc = 0xFFFFFFFF
    table = _CRC_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data):
    """TFRecord's masked CRC: rotated right by 15 bits plus a constant, so CRCs of CRCs differ."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def tfrecord_frame(payload):
    """Wraps `payload` bytes as one TFRecord record."""
    header = struct.pack("<Q", len(payload))
    return header + struct.pack("<I", masked_crc32c(header)) + payload + struct.pack("<I", masked_crc32c(payload))


# -- protobuf wire format ----------------------------------------------------------------------


def _varint(value):
    if value < 0:
        value += 1 << 64  # int64 negatives take ten bytes, as protobuf encodes them
    out = bytearray()
    while True:
        bits = value & 0x7F
        value >>= 7
        if value:
            out.append(bits | 0x80)
        else:
            out.append(bits)
            return bytes(out)


def _key(field, wire_type):
    return _varint((field << 3) | wire_type)


def _field_varint(field, value):
    return _key(field, 0) + _varint(value)


def _field_double(field, value):
    return _key(field, 1) + struct.pack("<d", value)


def _field_bytes(field, value):
    if isinstance(value, str):
        value = value.encode("utf-8")
    return _key(field, 2) + _varint(len(value)) + value


_DT_FLOAT = 1
_DATA_CLASS_SCALAR = 1


def scalar_value(tag, value):
    """A serialized `Summary.Value` holding a float32 scalar tensor (as `tf.summary.scalar`)."""
    plugin_data = _field_bytes(1, "scalars")  # PluginData.plugin_name; empty content
    metadata = _field_bytes(1, plugin_data) + _field_varint(4, _DATA_CLASS_SCALAR)
    tensor = (
        _field_varint(1, _DT_FLOAT)  # dtype
        + _field_bytes(2, b"")  # tensor_shape: a scalar has no dims
        + _field_bytes(5, struct.pack("<f", float(value)))  # float_val, packed
    )
    return _field_bytes(1, tag) + _field_bytes(9, metadata) + _field_bytes(8, tensor)


def event(wall_time, step=0, file_version=None, summary_values=()):
    """A serialized `Event`: wall time, step, and either a file version or a summary."""
    out = _field_double(1, wall_time)
    if step:
        out += _field_varint(2, int(step))
    if file_version is not None:
        out += _field_bytes(3, file_version)
    if summary_values:
        out += _field_bytes(5, b"".join(_field_bytes(1, value) for value in summary_values))
    return out


class EventFileWriter:
    """Appends scalar events to a new `events.out.tfevents.*` file in `log_dir`.

    Args:
        log_dir: the folder (created if missing).
        filename_suffix: appended to the file name (TF2 writers use ".v2").
    """

    _counter = 0

    def __init__(self, log_dir, filename_suffix=".v2"):
        os.makedirs(log_dir, exist_ok=True)
        EventFileWriter._counter += 1
        name = (
            f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}."
            f"{os.getpid()}.{EventFileWriter._counter}{filename_suffix}"
        )
        self.path = os.path.join(log_dir, name)
        self._file = open(self.path, "wb")
        self._file.write(tfrecord_frame(event(time.time(), file_version="brain.Event:2")))
        self._file.flush()

    def add_scalar(self, tag, value, step):
        """Writes one scalar at `step`."""
        self._file.write(tfrecord_frame(event(time.time(), step=step, summary_values=[scalar_value(tag, value)])))

    def flush(self):
        """Pushes buffered events to disk."""
        if not self._file.closed:
            self._file.flush()

    def close(self):
        """Flushes and closes the file."""
        if not self._file.closed:
            self._file.close()
