"""Structured reduction: rebuild a model without its all-zero neurons and filters (our own Keras 3 code, no
keras-surgeon). Each layer's spec (``hgq.specs``) says what can be done: a layer with a kernel and an
``output_units_key`` keeps the output channels that have a non-zero weight; every layer downstream is resized to
match, through channel-wise layers (``spec.is_channelwise``: batch norm, activations, pooling, dropout, hgq's
HQuantize and HActivation) and ``Flatten``; the output layers keep all their outputs. Models with nested sub-models
are refused by name: they are rebuilt from their config, which cannot resize the layers of a nested model."""

import keras
import numpy as np

from ... import graph
from ...cost import kernel_views
from ...specs import PruningRule, find_spec, spec_of


def check_rebuildable(model, who):
    """Refuse, naming them, a model that ``reduce_model`` cannot rebuild: subclassed, or holding nested models."""
    if not isinstance(model, keras.Sequential) and type(model).__name__ != "Functional":
        raise ValueError(f"{who}: only Sequential and functional models can be rebuilt, got {type(model).__name__}")
    nested = [f"{layer.name!r}" for layer in model.layers if isinstance(layer, keras.Model)]
    if nested:
        raise ValueError(f"{who}: structured reduction cannot rebuild model {model.name!r} with nested sub-models "
                         f"({', '.join(nested)}); build it as one functional model of their layers, or use an "
                         "objective that does not remove neurons")


def _consumers(model):
    consumers = {layer.name: [] for layer in model.layers}
    for layer in model.layers:
        for producer in graph.input_layers(layer):
            if producer is not None and producer.name in consumers:
                consumers[producer.name].append(layer)
    return consumers


def _units_key(layer):
    """The config key of the layer's output units when its spec has a kernel and one (``None``: not reducible)."""
    spec = find_spec(layer, PruningRule)
    return spec.output_units_key if spec is not None and kernel_views(layer) else None


def reducible_layers(model):
    """Names of the kernel layers of ``model`` (its own layers, not those of nested models) whose output channels
    can be removed: their spec has an ``output_units_key``, they are not model outputs, and all their consumers
    (through channel-wise layers and ``Flatten``) are kernel layers."""
    consumers = _consumers(model)
    outputs = {graph.producer_of(t).name for t in model.outputs}

    def passes_channels(layer):
        spec = find_spec(layer, PruningRule)
        return spec is not None and spec.is_channelwise(layer) or isinstance(layer, keras.layers.Flatten)

    def feeds_kernels_only(layer):
        if layer.name in outputs or not consumers[layer.name]:
            return False
        return all(kernel_views(c) and len(graph.input_layers(c)) == 1
                   or passes_channels(c) and feeds_kernels_only(c) for c in consumers[layer.name])

    return {layer.name for layer in model.layers if _units_key(layer) is not None and feeds_kernels_only(layer)}


def _kept_channels(model, reducible):
    """``{layer name: (kept input indices, kept output indices)}`` (``None``: all kept)."""
    kept = {}
    for layer in model.layers:
        spec = spec_of(layer, "reduce_model", PruningRule)
        producers = graph.input_layers(layer)
        keep_in = kept[producers[0].name][1] if len(producers) == 1 and producers[0].name in kept else None
        keep_out = keep_in
        if kernel_views(layer):
            keep_out = None
            if layer.name in reducible:
                w = keras.ops.convert_to_numpy(kernel_views(layer)[0].variable)
                keep_out = np.flatnonzero(np.any(w.reshape(-1, w.shape[-1]) != 0, axis=0))
                if len(keep_out) == 0:
                    keep_out = np.array([0])  # keep one channel: a layer needs one output
        elif isinstance(layer, keras.layers.Flatten) and keep_in is not None:
            shape = graph.output_shapes(producers[0])[0][1:]
            keep_out = np.arange(int(np.prod(shape))).reshape(shape)[..., keep_in].ravel()
        elif keep_in is not None and not spec.is_channelwise(layer):
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
        model: a Sequential or functional Keras model (H-layers included) without nested models, of layers that
            have a spec (others are refused by name).

    Returns:
        A new, smaller model with the remaining weights (not compiled).
    """
    check_rebuildable(model, "reduce_model")
    kept = _kept_channels(model, reducible_layers(model))
    config, layers = model.get_config(), {layer.name: layer for layer in model.layers}
    for entry in config["layers"]:
        entry.pop("build_config", None)  # the layers are rebuilt on their new inputs
        name = entry["config"]["name"]
        layer = layers.get(name)
        if layer is not None and kernel_views(layer) and kept[name][1] is not None:
            entry["config"][_units_key(layer)] = len(kept[name][1])
    reduced = type(model).from_config(config)
    for layer in model.layers:
        new = reduced.get_layer(layer.name)
        keep_in, keep_out = kept[layer.name]
        if len(layer.weights) != len(new.weights):
            raise ValueError(f"reduce_model: the rebuilt {layer.name!r} has {len(new.weights)} weights, not "
                             f"{len(layer.weights)}")
        is_kernel_layer = bool(kernel_views(layer))
        for old_var, new_var in zip(layer.weights, new.weights):
            value = _slice(keras.ops.convert_to_numpy(old_var), tuple(new_var.shape), keep_in, keep_out,
                           is_kernel_layer, f"{layer.name}/{old_var.name}")
            new_var.assign(value)
    return reduced
