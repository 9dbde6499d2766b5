"""hls4ml's Keras-3 handlers for the proxy's own layers (``hgq.proxy_layers``), registered through hls4ml's own
extension point (its handler registry, keyed by ``module.ClassName``).

- ``Einsum``: hls4ml's ``Einsum`` layer (the one it builds for HGQ2's ``QEinsum``), batch axis stripped.

A family with a package of its own registers its handler there (``hgq.families.softmax.hls_handler``,
``hgq.families.quantize.hls_handler``, ``hgq.families.activation.hls_handler``,
``hgq.families.normalization.hls_handler``); every
registered handler (``hgq.families.hls4ml_handlers``) is handed to hls4ml by ``register_hls4ml_handlers``.
"""

from ..families.hls4ml_handlers import HANDLERS, handler_key, hls4ml_handler
from ..proxy_layers import Einsum


@hls4ml_handler(Einsum)
def _einsum(layer, in_tensors, out_tensors):
    from hls4ml.converters.keras_v3.einsum_dense import strip_batch_dim

    shapes = [tuple(t.shape[1:]) for t in (*in_tensors, *out_tensors)]
    return {"class_name": "Einsum", "equation": strip_batch_dim(layer.equation, einsum_dense=False),
            "inp0_shape": shapes[0], "inp1_shape": shapes[1], "out_shape": shapes[2] or (1,)}


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
