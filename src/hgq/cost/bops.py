"""BOPs (bit operations) of H-models, the hardware-cost estimate that training minimizes, and each layer's
``beta``, its weight in the loss."""

from keras import ops

from ..backend import evaluate
from ..graph import layers_of_type
from ..families.hlayer import HLayer


def iter_hlayers(model):
    """Every H-layer of ``model``, nested models included, in model order."""
    return layers_of_type(model, HLayer)


def layer_bops(model):
    """Exact BOPs of each H-layer, as ``{layer name: BOPs}``."""
    layers = iter_hlayers(model)
    values = evaluate(model, "layer_bops", lambda: [layer.compute_bops("float64") for layer in layers])
    return {layer.name: float(ops.convert_to_numpy(v)) for layer, v in zip(layers, values)}


def total_bops(model):
    """Exact total BOPs of ``model``."""
    return float(sum(layer_bops(model).values()))


def get_beta(model):
    """Each H-layer's ``beta``, as ``{layer name: beta}``."""
    return {layer.name: layer.beta for layer in iter_hlayers(model)}


def set_beta(model, beta):
    """Set ``beta`` on every H-layer: one number for all, or ``{layer name: beta}`` for some.

    Takes effect at the next training step, without recompiling.
    """
    layers = {layer.name: layer for layer in iter_hlayers(model)}
    values = beta if isinstance(beta, dict) else dict.fromkeys(layers, beta)
    for name, value in values.items():
        if name not in layers:
            raise ValueError(f"set_beta: model {model.name!r} has no H-layer named {name!r}; "
                             f"H-layers: {', '.join(layers)}")
        if not float(value) >= 0:
            raise ValueError(f"set_beta: beta for layer {name!r} must be a non-negative number, got {value!r}")
        layers[name].beta = float(value)
