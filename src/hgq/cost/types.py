"""Fixed-point types of every layer's output given the types of its inputs, as the layer's spec derives them (NumPy,
float64, each shaped ``(1, *features)``)."""

import numpy as np

from ..families.registry import TypeRule, spec_of


def output_kif(layer, input_kifs, output_shape):
    """``(k, i, f)`` of each output element of ``layer``, shaped ``(1, *output_shape)``, or ``None`` when unknown
    (a float output).

    Args:
        layer: any layer of an H-model, a proxy model or a plain Keras model.
        input_kifs: the type of each input (``None`` where unknown), each shaped ``(1, *features)``.
        output_shape: the feature shape of the (single) output.

    Raises:
        hgq.specs.UnsupportedLayerError: for a layer whose type hgq does not know.
    """
    kif = spec_of(layer, "output_kif", TypeRule).output_kif(layer, input_kifs)
    if kif is None:
        return None
    return tuple(np.broadcast_to(np.asarray(a, np.float64), (1, *output_shape)) for a in kif)
