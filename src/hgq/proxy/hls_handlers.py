"""Handing hls4ml the Keras-3 handlers of hgq's own proxy layers, through hls4ml's own extension point (its handler
registry, keyed by ``module.ClassName``), and the type rules its bit-exact pass lacks (its ``_produce_kif`` and
``register_precision``, ``functools.singledispatch`` functions, extended with ``register``; a rule of hls4ml's own for
a class wins). Each family registers them where it defines them (its ``hls_handler`` module, with
``hgq.families.hls4ml_handlers.hls4ml_handler``, ``bit_exact_rule`` and ``precision_rule``);
``register_hls4ml_handlers`` hands every registered one to hls4ml.
"""

from ..families.hls4ml_handlers import BIT_EXACT_RULES, HANDLERS, PRECISION_RULES, handler_key


def register_hls4ml_handlers():
    """Register each handler of ``hgq.families.hls4ml_handlers`` in hls4ml's Keras-3 registry and each bit-exact
    type and precision rule in hls4ml's bit-exact pass (once; hls4ml is imported here)."""
    from hls4ml.converters.keras_v3._base import KerasV3LayerHandler, registry
    from hls4ml.model import layers
    from hls4ml.model.optimizer.passes.bit_exact import _produce_kif, register_precision

    for name, rule in BIT_EXACT_RULES.items():
        if getattr(layers, name) not in _produce_kif.registry:
            _produce_kif.register(getattr(layers, name))(rule)
    for name, rule in PRECISION_RULES.items():
        if getattr(layers, name) not in register_precision.registry:
            register_precision.register(getattr(layers, name))(rule)

    for cls, build_config in list(HANDLERS.items()):
        if handler_key(cls) in registry:
            continue

        class Handler(KerasV3LayerHandler):  # hls4ml's metaclass registers it under ``handles``
            handles = (handler_key(cls),)
            config_of = staticmethod(build_config)

            def handle(self, layer, in_tensors, out_tensors):
                return self.config_of(layer, in_tensors, out_tensors)
