"""hls4ml's Keras-3 handlers for the proxy's own layers (``FixedPointQuantizer``, ``UnaryLUT``), registered through
hls4ml's own extension point (its handler registry, keyed by ``module.ClassName``).

Without them hls4ml finds no Keras-3 handler for these classes and tries its fallbacks in turn: first distributed
arithmetic (da4ml's tracer, which looks for HGQ2's ``hgq.layers.core`` in our ``hgq`` namespace and prints a dozen
lines per layer when da4ml is installed), then its Keras-2 handler of the same class name. The handlers here go
straight to those Keras-2 handlers, so the result is the same and nothing is printed.
"""

import numpy as np

from ..quantizer.fixed_point_quantizer import FixedPointQuantizer
from ..quantizer.unary_lut import UnaryLUT

PROXY_LAYERS = (FixedPointQuantizer, UnaryLUT)


def handler_keys():
    """The keys under which hls4ml looks up the handler of each proxy layer class."""
    return tuple(f"{cls.__module__}.{cls.__name__}" for cls in PROXY_LAYERS)


def register_hls4ml_handlers():
    """Register the handlers in hls4ml's Keras-3 registry (once; hls4ml is imported here)."""
    from hls4ml.converters.keras.hgq_proxy_model import fixedpoint_quantizer_handler, unary_lut_keras_handler
    from hls4ml.converters.keras_v3._base import KerasV3LayerHandler, registry

    if all(key in registry for key in handler_keys()):
        return
    keras2_handlers = {"FixedPointQuantizer": fixedpoint_quantizer_handler, "UnaryLUT": unary_lut_keras_handler}

    class _WeightsOf:
        """hls4ml's weight reader, for one layer."""

        def __init__(self, layer):
            self.layer = layer

        def get_weights_data(self, layer_name, var_name):
            return next((np.array(w) for w in self.layer.weights if var_name in w.name), None)

    class ProxyLayerHandler(KerasV3LayerHandler):  # registers itself under ``handles`` (hls4ml's metaclass)
        handles = handler_keys()

        def handle(self, layer, in_tensors, out_tensors):
            handler = keras2_handlers[type(layer).__name__]
            saved = {"config": layer.get_config(), "class_name": type(layer).__name__}
            config, _ = handler(saved, [t.name for t in in_tensors], [list(t.shape) for t in in_tensors],
                                _WeightsOf(layer))
            return config

    return ProxyLayerHandler
