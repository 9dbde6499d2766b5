"""hls4ml's side of ``Embedding``: its Keras-3 handler (hls4ml's Keras-2 handler of the same class name, reached
without its fallbacks) and its type rule in hls4ml's bit-exact pass, which has none. Registered by being defined;
``hgq.proxy`` hands both registries to hls4ml."""

import keras
import numpy as np

from ...quantizer.types import minimal_kif, union_kif
from ..hls4ml_handlers import bit_exact_rule, hls4ml_handler, keras2_handler


@hls4ml_handler(keras.layers.Embedding)
def embedding_config(layer, in_tensors, out_tensors):
    """hls4ml's layer config of an ``Embedding``, from its Keras-2 handler."""
    from hls4ml.converters.keras_v2_to_hls import layer_handlers

    return keras2_handler(layer_handlers["Embedding"])(layer, in_tensors, out_tensors)


@bit_exact_rule("Embedding")
def table_union(node):
    """Every output element of a lookup gets the union type of the table's values (hls4ml's result type is one type
    for the layer anyway)."""
    from hls4ml.model.optimizer.passes.bit_exact import get_output_shape

    union = union_kif(minimal_kif(node.attributes["embeddings"].data)) or (0, 0, 0)  # all zeros: no bits
    return tuple(np.full(get_output_shape(node), int(a), dtype=np.int16) for a in union)
