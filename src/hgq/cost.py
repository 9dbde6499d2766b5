"""BOPs (bit operations) of H-models: the hardware-cost estimate that training minimizes."""

import keras

from .layers.base import HLayer


def iter_hlayers(model):
    """Every H-layer of ``model``, nested models included, in model order."""
    for layer in model.layers:
        if isinstance(layer, HLayer):
            yield layer
        elif isinstance(layer, keras.Model):
            yield from iter_hlayers(layer)


def layer_bops(model):
    """Exact BOPs of each H-layer, as ``{layer name: BOPs}``."""
    return {layer.name: layer.bops() for layer in iter_hlayers(model)}


def total_bops(model):
    """Exact total BOPs of ``model``."""
    return float(sum(layer_bops(model).values()))
