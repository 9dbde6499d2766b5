"""What a model is, for the commands and reports that treat models differently: the one classifier."""

from . import graph
from .families.hlayer import HLayer
from .proxy_layers.fixed_point_quantizer import FixedPointQuantizer

H_MODEL, PROXY, FLOAT = "H-model", "proxy", "float"


def model_kind(model):
    """``"H-model"`` (it holds H-layers, nested models included), ``"proxy"`` (it holds ``FixedPointQuantizer``
    layers: ``to_proxy_model`` or ``hgq.qkeras.from_qkeras``) or ``"float"`` (a plain Keras model)."""
    if graph.layers_of_type(model, HLayer):
        return H_MODEL
    if graph.layers_of_type(model, FixedPointQuantizer):
        return PROXY
    return FLOAT
