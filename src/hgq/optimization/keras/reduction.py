"""Structured reduction: rebuild a model without its all-zero neurons and filters (our own Keras 3 code, no
keras-surgeon). Each kernel layer keeps the output channels that have a non-zero weight; every layer downstream is
resized to match, through channel-wise layers (batch norm, activations, pooling, dropout, hgq's HQuantize and
HActivation) and ``Flatten``; the output layers keep all their outputs."""

import keras
import numpy as np

from ... import graph
from ...layers import HActivation, HQuantize
from .config import SUPPORTED_LAYERS

#: Layers that act on each channel (the last axis) separately: a removed channel can be removed through them.
CHANNELWISE = (keras.layers.BatchNormalization, keras.layers.Activation, keras.layers.ReLU, keras.layers.LeakyReLU,
               keras.layers.Dropout, keras.layers.MaxPooling1D, keras.layers.MaxPooling2D,
               keras.layers.AveragePooling1D, keras.layers.AveragePooling2D, keras.layers.GlobalAveragePooling1D,
               keras.layers.GlobalAveragePooling2D, keras.layers.GlobalMaxPooling1D, keras.layers.GlobalMaxPooling2D,
               HQuantize, HActivation)


def _consumers(model):
    consumers = {layer.name: [] for layer in model.layers}
    for layer in model.layers:
        for producer in graph.input_layers(layer):
            if producer is not None and producer.name in consumers:
                consumers[producer.name].append(layer)
    return consumers


def reducible_layers(model):
    """Names of the kernel layers whose output channels can be removed: not model outputs, and all their
    consumers (through channel-wise layers and ``Flatten``) are kernel layers."""
    consumers = _consumers(model)
    outputs = {graph.producer_of(t).name for t in model.outputs}

    def feeds_kernels_only(layer):
        if layer.name in outputs or not consumers[layer.name]:
            return False
        return all(isinstance(c, SUPPORTED_LAYERS) and len(graph.input_layers(c)) == 1
                   or isinstance(c, (*CHANNELWISE, keras.layers.Flatten)) and feeds_kernels_only(c)
                   for c in consumers[layer.name])

    return {layer.name for layer in model.layers if isinstance(layer, SUPPORTED_LAYERS) and feeds_kernels_only(layer)}


def _kept_channels(model, reducible):
    """``{layer name: (kept input indices, kept output indices)}`` (``None``: all kept)."""
    kept = {}
    for layer in model.layers:
        producers = graph.input_layers(layer)
        keep_in = kept[producers[0].name][1] if len(producers) == 1 and producers[0].name in kept else None
        keep_out = keep_in
        if isinstance(layer, SUPPORTED_LAYERS):
            keep_out = None
            if layer.name in reducible:
                w = keras.ops.convert_to_numpy(layer.kernel)
                keep_out = np.flatnonzero(np.any(w.reshape(-1, w.shape[-1]) != 0, axis=0))
                if len(keep_out) == 0:
                    keep_out = np.array([0])  # keep one channel: a layer needs one output
        elif isinstance(layer, keras.layers.Flatten) and keep_in is not None:
            shape = graph.output_shapes(producers[0])[0][1:]
            keep_out = np.arange(int(np.prod(shape))).reshape(shape)[..., keep_in].ravel()
        elif keep_in is not None and not isinstance(layer, CHANNELWISE):
            raise ValueError(f"reduce_model: cannot remove channels through {type(layer).__name__} {layer.name!r}")
        kept[layer.name] = (keep_in, keep_out)
    return kept


def _slice(value, new_shape, keep_in, keep_out, is_kernel_layer, where):
    for axis in range(value.ndim):
        if value.shape[axis] == new_shape[axis]:
            continue
        if axis == value.ndim - 1 and keep_out is not None:
            value = np.take(value, keep_out, axis=axis)
        elif axis == value.ndim - 2 and is_kernel_layer and keep_in is not None:
            value = np.take(value, keep_in, axis=axis)
        else:
            raise ValueError(f"reduce_model: no rule to resize axis {axis} of {where} from {value.shape} to "
                             f"{new_shape}")
    return value


def reduce_model(model):
    """A copy of ``model`` without its all-zero neurons (Dense) and filters (convolutions).

    Args:
        model: a Sequential or functional Keras model (H-layers included).

    Returns:
        A new, smaller model with the remaining weights (not compiled).
    """
    if not isinstance(model, keras.Sequential) and type(model).__name__ != "Functional":
        raise ValueError(f"reduce_model: only Sequential and functional models can be rebuilt, got "
                         f"{type(model).__name__}")
    kept = _kept_channels(model, reducible_layers(model))
    config, layers = model.get_config(), {layer.name: layer for layer in model.layers}
    for entry in config["layers"]:
        entry.pop("build_config", None)  # the layers are rebuilt on their new inputs
        name = entry["config"]["name"]
        layer = layers.get(name)
        if isinstance(layer, SUPPORTED_LAYERS) and kept[name][1] is not None:
            entry["config"]["units" if isinstance(layer, keras.layers.Dense) else "filters"] = len(kept[name][1])
    reduced = type(model).from_config(config)
    for layer in model.layers:
        new = reduced.get_layer(layer.name)
        keep_in, keep_out = kept[layer.name]
        if len(layer.weights) != len(new.weights):
            raise ValueError(f"reduce_model: the rebuilt {layer.name!r} has {len(new.weights)} weights, not "
                             f"{len(layer.weights)}")
        for old_var, new_var in zip(layer.weights, new.weights):
            value = _slice(keras.ops.convert_to_numpy(old_var), tuple(new_var.shape), keep_in, keep_out,
                           isinstance(layer, SUPPORTED_LAYERS), f"{layer.name}/{old_var.name}")
            new_var.assign(value)
    return reduced
