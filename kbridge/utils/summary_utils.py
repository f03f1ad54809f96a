"""`model.summary()`: a Keras-like table of layers, output shapes and parameter counts."""

import math
import re
import shutil
import textwrap

_DTYPE_BITS = {
    "bool": 1, "int4": 4, "uint4": 4, "int8": 8, "uint8": 8, "float8_e4m3fn": 8, "float8_e5m2": 8,
    "int16": 16, "uint16": 16, "float16": 16, "bfloat16": 16, "int32": 32, "uint32": 32, "float32": 32,
    "int64": 64, "uint64": 64, "float64": 64, "complex64": 64, "complex128": 128,
}  # fmt: skip


def count_params(weights):
    """Number of scalars in `weights` (each counted once)."""
    unique = {id(w): w for w in weights}.values()
    return int(sum(math.prod(w.shape) for w in unique))


def weight_memory_size(weights):
    """Bytes taken by `weights` (each counted once)."""
    unique = {id(w): w for w in weights}.values()
    return sum(math.prod(w.shape) * _DTYPE_BITS.get(w.dtype, 32) for w in unique) / 8


def readable_memory_size(size):
    """Formats a byte count: "32.00 B", "1.50 KB", ..."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


def _format_shape(shape):
    return "(" + ", ".join(str(d) for d in shape) + (",)" if len(shape) == 1 else ")")


def _output_shape(layer, relevant_nodes):
    from kbridge.utils import tree

    nodes = [n for n in layer._inbound_nodes if relevant_nodes is None or n in relevant_nodes]
    if nodes:
        shapes = [_format_shape(t.shape) for t in nodes[-1].output_tensors]
        return shapes[0] if len(shapes) == 1 else "[" + ", ".join(shapes) + "]"
    if getattr(layer, "_build_shapes", None) and type(layer).compute_output_shape is not _base_compute_output_shape():
        args, kwargs = layer._build_shapes
        try:
            shapes = layer.compute_output_shape(*args, **kwargs)
        except Exception:  # noqa: BLE001 - a summary must not fail on a shape it cannot infer
            return "?"
        if isinstance(shapes, tuple) and all(d is None or isinstance(d, int) for d in shapes):
            return _format_shape(shapes)
        return str(tree.map_structure(lambda s: s, shapes))
    return "?"


def _type_name(layer):
    op_name = getattr(layer, "op_name", None)
    if op_name is not None:
        # Recorded ops display as Keras 3 shows its op classes: "add (Add)".
        return "".join(part.capitalize() for part in op_name.split("_"))
    return type(layer).__name__


def _base_compute_output_shape():
    from kbridge.layers.layer import Layer

    return Layer.compute_output_shape


def _graph_of(model):
    """The Functional graph behind `model` (itself, a Sequential's, or None)."""
    from kbridge.models.functional import Functional

    if isinstance(model, Functional):
        return model
    return getattr(model, "_functional", None)


def _is_sequential_like(model):
    from kbridge.models.sequential import Sequential

    graph = _graph_of(model)
    if isinstance(model, Sequential) or graph is None:
        return True
    nodes = []
    for depth_nodes in graph._nodes_by_depth.values():
        if len(depth_nodes) > 1 or (len(depth_nodes) == 1 and len(depth_nodes[0].input_tensors) > 1):
            return False
        nodes.extend(depth_nodes)
    for layer in graph.layers:
        if sum(1 for node in layer._inbound_nodes if node in nodes) > 1:
            return False
    return True


def _layer_range(layers, layer_range):
    if layer_range is None:
        return 0, len(layers)
    if len(layer_range) != 2 or not all(isinstance(x, str) for x in layer_range):
        raise ValueError(f"layer_range must be a list or tuple of two layer names (regexes), received {layer_range!r}")
    lower = [i for i, layer in enumerate(layers) if re.match(layer_range[0], layer.name)]
    upper = [i for i, layer in enumerate(layers) if re.match(layer_range[1], layer.name)]
    if not lower or not upper:
        raise ValueError(f"layer_range {layer_range!r} does not match the names of the model's layers.")
    if min(lower) > max(upper):
        return min(upper), max(lower) + 1
    return min(lower), max(upper) + 1


def _wrap(text, width):
    lines = []
    for part in str(text).split("\n"):
        lines.extend(textwrap.wrap(part, width, break_long_words=True, break_on_hyphens=False) or [""])
    return lines


def _render_table(header, rows, widths, alignment):
    def border(left, fill, mid, right):
        return left + mid.join(fill * (w + 2) for w in widths) + right

    def render_row(cells, vertical):
        wrapped = [_wrap(cell, w) for cell, w in zip(cells, widths)]
        height = max(len(c) for c in wrapped)
        out = []
        for i in range(height):
            parts = []
            for lines, width, align in zip(wrapped, widths, alignment):
                text = lines[i] if i < len(lines) else ""
                if align == "right":
                    text = text.rjust(width)
                elif align == "center":
                    text = text.center(width)
                else:
                    text = text.ljust(width)
                parts.append(f" {text} ")
            out.append(vertical + vertical.join(parts) + vertical)
        return out

    lines = [border("┏", "━", "┳", "┓")]
    lines += render_row(header, "┃")
    lines.append(border("┡", "━", "╇", "┩"))
    for index, row in enumerate(rows):
        if index:
            lines.append(border("├", "─", "┼", "┤"))
        lines += render_row(row, "│")
    lines.append(border("└", "─", "┴", "┘"))
    return lines


def summary_text(
    model, line_length=None, positions=None, expand_nested=False, show_trainable=False, layer_range=None
):  # fmt: skip
    """Returns the summary of `model` as a string (see `Model.summary` for the arguments)."""
    from kbridge.models.functional import Functional
    from kbridge.models.model import Model

    graph = _graph_of(model)
    sequential_like = _is_sequential_like(model)
    if isinstance(model, Functional):
        layers = list(graph._operations)
    else:
        layers = model.layers
    relevant = graph._nodes if graph is not None else None
    if sequential_like:
        default_length, positions = 88, positions or [0.45, 0.80, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #"]
        alignment = ["left", "left", "right"]
    else:
        default_length, positions = 108, positions or [0.3, 0.56, 0.74, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        alignment = ["left", "left", "right", "left"]
    if show_trainable:
        default_length += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        header.append("Trainable")
        alignment.append("center")
    line_length = line_length or min(default_length, shutil.get_terminal_size().columns - 4)
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    widths, current = [], 0
    for position in positions:
        width = int(position) - current - 3
        if width < 2:
            raise ValueError("Insufficient line length to print the summary; increase `line_length`.")
        widths.append(width)
        current = int(position)
    widths[-1] -= 1  # The closing border.
    for index, title in enumerate(header):
        # Keep header words whole, taking the room from the widest column.
        missing = max(len(word) for word in title.split()) - widths[index]
        widest = max(range(len(widths)), key=widths.__getitem__)
        if missing > 0 and widest != index:
            widths[index] += missing
            widths[widest] -= missing

    def connections(layer):
        parts = []
        for node in layer._inbound_nodes:
            if relevant is not None and node not in relevant:
                continue
            for tensor in node.input_tensors:
                inbound, node_index, tensor_index = tensor._keras_history
                parts.append(f"{inbound.name}[{node_index}][{tensor_index}]")
        return ", ".join(parts) or "-"

    def fields(layer, prefix, nodes):
        if not layer.built:
            params = "0 (unbuilt)"
        else:
            params = f"{layer.count_params():,}"
        row = [f"{prefix}{layer.name} ({_type_name(layer)})", _output_shape(layer, nodes), params]
        if not sequential_like:
            row.append(connections(layer))
        if show_trainable:
            row.append(("Y" if layer.trainable else "N") if layer.weights else "-")
        return row

    def layer_rows(layer, level, nodes):
        prefix = "   " * level + "└ " if level else ""
        rows = [fields(layer, prefix, nodes)]
        nested = layer.layers if expand_nested and isinstance(layer, Model) else None
        if nested:
            inner = _graph_of(layer)
            inner_nodes = inner._nodes if inner is not None else None
            for sublayer in nested:
                rows.extend(layer_rows(sublayer, level + 1, inner_nodes))
        return rows

    start, stop = _layer_range(layers, layer_range)
    rows = [row for layer in layers[start:stop] for row in layer_rows(layer, 0, relevant)]
    trainable = model.trainable_weights
    non_trainable = model.non_trainable_weights
    trainable_count, non_trainable_count = count_params(trainable), count_params(non_trainable)
    trainable_size, non_trainable_size = weight_memory_size(trainable), weight_memory_size(non_trainable)
    lines = [f'Model: "{model.name}"']
    lines += _render_table(header, rows, widths, alignment)
    lines.append(
        f" Total params: {trainable_count + non_trainable_count:,} "
        f"({readable_memory_size(trainable_size + non_trainable_size)})"
    )
    lines.append(f" Trainable params: {trainable_count:,} ({readable_memory_size(trainable_size)})")
    lines.append(f" Non-trainable params: {non_trainable_count:,} ({readable_memory_size(non_trainable_size)})")
    return "\n".join(lines)


def print_summary(
    model,
    line_length=None,
    positions=None,
    print_fn=None,
    expand_nested=False,
    show_trainable=False,
    layer_range=None,
):
    """Prints the summary of `model` with `print_fn` (default `print`), called once with the whole text."""
    text = summary_text(model, line_length, positions, expand_nested, show_trainable, layer_range)
    (print_fn or print)(text)
