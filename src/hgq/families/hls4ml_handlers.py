"""The registries of what hgq hands hls4ml: Keras-3 handlers for layer classes of the proxy, and type rules for
hls4ml's bit-exact pass. A family registers the handler of its proxy layer where it defines it
(``@hls4ml_handler(ProxyLayer)``), and ``hgq.proxy.register_hls4ml_handlers`` hands every registered one to hls4ml. A handler is ``handler(layer, in_tensors, out_tensors) -> config`` (the dict
hls4ml's ``KerasV3LayerHandler.handle`` returns); it imports hls4ml itself, when called.

A proxy layer that hls4ml knows under the same class name from Keras 2 (``FixedPointQuantizer``, ``UnaryLUT``,
``BatchNormalization``) needs a Keras-3 handler all the same: without one hls4ml tries its fallbacks in turn, first
distributed arithmetic (da4ml's tracer, which looks for HGQ2's ``hgq.layers.core`` in our ``hgq`` namespace and
prints ``Function da_call requires da4ml..., but package hgq.layers.core is missing`` and more per layer when da4ml is
installed; ``hls4ml.utils.config_from_keras_model`` always allows this fallback), then its Keras-2 handler of the same
class name. ``keras2_handler`` goes straight to that Keras-2 handler: the same firmware, nothing printed."""

import numpy as np

from ..function_table import FunctionTable

#: ``{proxy layer class: handler}``, in registration order.
HANDLERS = FunctionTable()

#: Decorator: register the decorated function as hls4ml's Keras-3 handler of the given proxy layer classes.
hls4ml_handler = HANDLERS.file


#: ``{name of an hls4ml layer class: rule}``: the type rule (``rule(node) -> (k, i, f)`` arrays shaped like its output)
#: of a layer that hls4ml's bit-exact pass has none for (it raises ``NotImplementedError`` on a proxy holding one).
BIT_EXACT_RULES = FunctionTable()

#: Decorator: register the decorated function as the bit-exact type rule of the named hls4ml layer classes.
bit_exact_rule = BIT_EXACT_RULES.file

#: ``{name of an hls4ml layer class: rule}``: how hls4ml's bit-exact pass sets the types of a layer whose internal
#: types are hgq's own (``rule(node)``, in place of its ``register_precision``, which would replace them).
PRECISION_RULES = FunctionTable()

#: Decorator: register the decorated function as the bit-exact pass's type setting of the named hls4ml layer classes.
precision_rule = PRECISION_RULES.file


def handler_key(cls):
    """The key under which hls4ml looks up the handler of a layer class."""
    return f"{cls.__module__}.{cls.__name__}"


def keras2_handler(handler):
    """A handler that builds the config as hls4ml's Keras-2 ``handler`` does, from the layer's config and weights."""

    class _WeightsOf:
        def __init__(self, layer):
            self.layer = layer

        def get_weights_data(self, layer_name, var_name):
            return next((np.array(w) for w in self.layer.weights if var_name in w.name), None)

    def handle(layer, in_tensors, out_tensors):
        saved = {"config": layer.get_config(), "class_name": type(layer).__name__}
        config, _ = handler(saved, [t.name for t in in_tensors], [list(t.shape) for t in in_tensors],
                            _WeightsOf(layer))
        return config

    return handle
