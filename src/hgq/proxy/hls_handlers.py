"""Handing hls4ml the Keras-3 handlers of hgq's own proxy layers, through hls4ml's own extension point (its handler
registry, keyed by ``module.ClassName``). Each family registers the handler of its proxy layer where it defines it
(its ``hls_handler`` module, with ``hgq.families.hls4ml_handlers.hls4ml_handler``); ``register_hls4ml_handlers``
hands every registered one to hls4ml.
"""

from ..families.hls4ml_handlers import HANDLERS, handler_key


def register_hls4ml_handlers():
    """Register each handler of ``hgq.families.hls4ml_handlers`` in hls4ml's Keras-3 registry (once; hls4ml is
    imported here)."""
    from hls4ml.converters.keras_v3._base import KerasV3LayerHandler, registry

    for cls, build_config in list(HANDLERS.items()):
        if handler_key(cls) in registry:
            continue

        class Handler(KerasV3LayerHandler):  # hls4ml's metaclass registers it under ``handles``
            handles = (handler_key(cls),)
            config_of = staticmethod(build_config)

            def handle(self, layer, in_tensors, out_tensors):
                return self.config_of(layer, in_tensors, out_tensors)
