"""Handing hls4ml the Keras-3 handlers of hgq's own proxy layers, through hls4ml's own extension point (its handler
registry, keyed by ``module.ClassName``), and the type rules its bit-exact pass lacks (its ``_produce_kif``, a
``functools.singledispatch`` function, extended with ``register``; a rule of hls4ml's own for a class wins). Each
family registers them where it defines them (its ``hls_handler`` module, with
``hgq.families.hls4ml_handlers.hls4ml_handler`` and ``bit_exact_rule``); ``register_hls4ml_handlers`` hands every
registered one to hls4ml.
"""

from ..families.hls4ml_handlers import BIT_EXACT_RULES, HANDLERS, handler_key


def register_hls4ml_handlers():
    """Register each handler of ``hgq.families.hls4ml_handlers`` in hls4ml's Keras-3 registry and each bit-exact
    type rule in hls4ml's bit-exact pass (once; hls4ml is imported here)."""
    from hls4ml.converters.keras_v3._base import KerasV3LayerHandler, registry
    from hls4ml.model import layers
    from hls4ml.model.optimizer.passes.bit_exact import _produce_kif

    for name, rule in BIT_EXACT_RULES.items():
        if getattr(layers, name) not in _produce_kif.registry:
            _produce_kif.register(getattr(layers, name))(rule)

    for cls, build_config in list(HANDLERS.items()):
        if handler_key(cls) in registry:
            continue

        class Handler(KerasV3LayerHandler):  # hls4ml's metaclass registers it under ``handles``
            handles = (handler_key(cls),)
            config_of = staticmethod(build_config)

            def handle(self, layer, in_tensors, out_tensors):
                return self.config_of(layer, in_tensors, out_tensors)
