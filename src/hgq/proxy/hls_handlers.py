"""hls4ml's Keras-3 handlers for the proxy's own layers (``hgq.proxy_layers``), registered through hls4ml's own
extension point (its handler registry, keyed by ``module.ClassName``).

- ``FixedPointQuantizer``, ``UnaryLUT`` and ``BatchNormalization``: without a Keras-3 handler hls4ml tries its
  fallbacks in turn, first distributed arithmetic (da4ml's tracer, which looks for HGQ2's ``hgq.layers.core`` in our
  ``hgq`` namespace and prints ``Function da_call requires da4ml..., but package hgq.layers.core is missing`` and more
  per layer when da4ml is installed; ``hls4ml.utils.config_from_keras_model`` always allows this fallback), then its
  Keras-2 handler of the same class name. The handler here goes straight to that Keras-2 handler: the same firmware,
  nothing printed.
- ``Einsum``: hls4ml's ``Einsum`` layer (the one it builds for HGQ2's ``QEinsum``), batch axis stripped.
- ``Softmax``: hls4ml's bit-exact ``Softmax`` (``_bit_exact``, as for HGQ2's ``QSoftmax``) with the proxy's table
  types and sizes, so that the C simulation computes the proxy's tables.
"""

import math


import numpy as np

from ..proxy_layers import BatchNormalization, Einsum, FixedPointQuantizer, Softmax, UnaryLUT


def _keras2_handler(handler):
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


def _einsum(layer, in_tensors, out_tensors):
    from hls4ml.converters.keras_v3.einsum_dense import strip_batch_dim

    shapes = [tuple(t.shape[1:]) for t in (*in_tensors, *out_tensors)]
    return {"class_name": "Einsum", "equation": strip_batch_dim(layer.equation, einsum_dense=False),
            "inp0_shape": shapes[0], "inp1_shape": shapes[1], "out_shape": shapes[2] or (1,)}


def _softmax(layer, in_tensors, out_tensors):
    shape = tuple(in_tensors[0].shape)
    axis = layer.axis % len(shape)
    n_outer, n_inner = math.prod(shape[1:axis]), math.prod(shape[axis + 1:])
    t = layer.tables
    config = {"class_name": "Softmax", "activation": "softmax", "axis": -1 if axis == len(shape) - 1 else axis,
              "n_in": math.prod(shape[1:]), "n_outer": n_outer, "n_inner": n_inner,
              "implementation": t.implementation, "exp_scale": float(np.float32(t.exp_scale)), "parallelization_factor": n_outer * n_inner,
              "exp_table_t": t.exp_t.to_hls4ml(), "inv_table_t": t.inv_t.to_hls4ml(), "inv_inp_t": t.inv_inp_t.to_hls4ml(),
              "inv_table_size": 2**t.inv_inp_t.width, "_bit_exact": True,
              "exp_table_size": 2**t.norm_t.width if t.implementation == "stable" else None}
    if t.implementation == "stable":
        config["inp_norm_t"] = t.norm_t.to_hls4ml()
    return config


def _handlers():
    from hls4ml.converters.keras.core import parse_batchnorm_layer
    from hls4ml.converters.keras.hgq_proxy_model import fixedpoint_quantizer_handler, unary_lut_keras_handler

    return {FixedPointQuantizer: _keras2_handler(fixedpoint_quantizer_handler),
            UnaryLUT: _keras2_handler(unary_lut_keras_handler),
            BatchNormalization: _keras2_handler(parse_batchnorm_layer), Einsum: _einsum, Softmax: _softmax}


def handler_key(cls):
    """The key under which hls4ml looks up the handler of a layer class."""
    return f"{cls.__module__}.{cls.__name__}"


def register_hls4ml_handlers():
    """Register a handler for each proxy layer class in hls4ml's Keras-3 registry (once; hls4ml is imported here)."""
    from hls4ml.converters.keras_v3._base import KerasV3LayerHandler, registry

    for cls, build_config in _handlers().items():
        if handler_key(cls) in registry:
            continue

        class Handler(KerasV3LayerHandler):  # hls4ml's metaclass registers it under ``handles``
            handles = (handler_key(cls),)
            config_of = staticmethod(build_config)

            def handle(self, layer, in_tensors, out_tensors):
                return self.config_of(layer, in_tensors, out_tensors)
