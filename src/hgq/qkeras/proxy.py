"""``from_qkeras``: a QKeras (Keras 2) model file → a bit-exact proxy model (Keras 3, no QKeras needed)."""

import keras

from ..proxy_layers.precision import require_exact_float64
from ..proxy.saturation import narrow_to_input_precision
from .converters import QKerasContext, SavedLayer, convert
from .reader import read_model


def _sequential_graph(layers):
    """``(layer config, [input names])`` pairs of a Sequential model, with an explicit InputLayer first."""
    if layers[0]["class_name"] != "InputLayer":
        shape = layers[0]["config"].get("batch_input_shape")
        if shape is None:
            raise ValueError("from_qkeras: the Sequential model has no input shape")
        layers = [{"class_name": "InputLayer", "config": {"name": "input", "batch_input_shape": shape}}, *layers]
    names = [cfg["config"]["name"] for cfg in layers]
    return [(cfg, names[i - 1:i]) for i, cfg in enumerate(layers)], names[:1], names[-1:]


def _functional_graph(config):
    """``(layer config, [input names])`` pairs of a functional model, and its input and output layer names."""
    graph = []
    for cfg in config["layers"]:
        nodes = cfg.get("inbound_nodes", [])
        if len(nodes) > 1:
            raise ValueError(f"from_qkeras: layer {cfg['config']['name']!r} is shared (called {len(nodes)} times); "
                             "not supported")
        for entry in nodes[0] if nodes else []:
            if entry[1] != 0 or entry[2] != 0:
                raise ValueError(f"from_qkeras: layer {cfg['config']['name']!r} reads a second output of "
                                 f"{entry[0]!r}; not supported")
        graph.append((cfg, [entry[0] for entry in nodes[0]] if nodes else []))
    return graph, [i[0] for i in config["input_layers"]], [o[0] for o in config["output_layers"]]


def from_qkeras(path, weights=None, aggressive=False):
    """Convert a saved QKeras model into a proxy model (plain float64 Keras layers with the exactly quantized
    weights, and ``FixedPointQuantizer`` layers where QKeras quantizes activations) that hls4ml converts bit-exactly.

    Args:
        path: a Keras 2 full-model ``.h5`` file, or an architecture ``.json`` file.
        weights: the ``.weights.h5`` file that goes with a ``.json`` architecture.
        aggressive: ``False`` (default) saturates on overflow exactly like QKeras; ``True`` wraps (cheaper logic,
            equal to QKeras only while no activation overflows).

    Raises:
        ValueError: naming the layer, for anything that cannot be reproduced exactly, and on a backend that
            computes float64 in float32 (JAX without 64-bit mode).
        FileNotFoundError: for a missing file.
    """
    require_exact_float64("from_qkeras")
    config, arrays = read_model(path, weights)
    if config["class_name"] == "Sequential":
        graph, input_names, output_names = _sequential_graph(config["config"]["layers"])
    elif config["class_name"] in ("Functional", "Model"):
        graph, input_names, output_names = _functional_graph(config["config"])
    else:
        raise ValueError(f"from_qkeras: model class {config['class_name']!r} is not supported")
    ctx, tensors = QKerasContext("from_qkeras", aggressive), {}
    for cfg, input_layers in graph:
        layer = SavedLayer(cfg["class_name"], cfg["config"], arrays.get(cfg["config"]["name"], []))
        tensors[layer.name] = convert(layer, [tensors[n] for n in input_layers], ctx)
    inputs = [tensors[n] for n in input_names]
    outputs = [tensors[n] for n in output_names]
    name = config["config"].get("name", "qkeras")
    proxy = keras.Model(inputs if len(inputs) > 1 else inputs[0], outputs if len(outputs) > 1 else outputs[0],
                        name=f"{name}_proxy")
    return narrow_to_input_precision(proxy)
