"""hls4ml's side of padding, cropping and upsampling (the plain layers the P-layers export to): Keras-3 handlers that
are hls4ml's Keras-2 handlers of the same class names (reached without its fallbacks, which print), and their type
rule in hls4ml's bit-exact pass, which has none (it raises ``NotImplementedError`` on a proxy holding one). Registered
by being defined; ``hgq.proxy`` hands both registries to hls4ml."""

import keras
import numpy as np

from ..hls4ml_handlers import bit_exact_rule, hls4ml_handler, keras2_handler

#: The plain layers that copy their input's values (and zeros) to other places.
COPYING_LAYERS = (keras.layers.ZeroPadding1D, keras.layers.ZeroPadding2D, keras.layers.Cropping1D,
                  keras.layers.Cropping2D, keras.layers.UpSampling1D, keras.layers.UpSampling2D)


@hls4ml_handler(*COPYING_LAYERS)
def copying_layer_config(layer, in_tensors, out_tensors):
    """hls4ml's layer config of a padding, cropping or upsampling layer, from its Keras-2 handler."""
    from hls4ml.converters.keras_v2_to_hls import layer_handlers

    return keras2_handler(layer_handlers[type(layer).__name__])(layer, in_tensors, out_tensors)


@bit_exact_rule("ZeroPadding1D", "ZeroPadding2D", "Cropping1D", "Cropping2D", "Resize")
def union_of_the_input(node):
    """Every output element of a layer that copies values (or writes zeros) gets one type: the union of its input's
    types, which holds each of them (hls4ml's result type is one type for the layer anyway)."""
    from hls4ml.model.optimizer.passes.bit_exact import get_input_kifs, get_output_shape

    return tuple(np.full(get_output_shape(node), np.max(a), dtype=a.dtype) for a in get_input_kifs(node)[0])
