"""Fixed-point types ``(k, i, f)`` as the cost model reads them: of each value of a plain weight (proxy models), and
of every layer's output given the types of its inputs. All NumPy (float64), each shaped ``(1, *features)``."""

import numpy as np
from keras import ops

from ..layers.base import QuantizedOutput
from ..layers.passthrough import PLAIN_LAYERS
from ..proxy.convert import as_numpy
from ..proxy.fixed_point_quantizer import FixedPointQuantizer
from ..proxy.unary_lut import UnaryLUT
from ..quantizer import fixed_point as fxp

#: The P-layer whose type rule a plain Keras layer of a proxy model follows.
P_LAYER_OF = {plain: p_layer for p_layer, plain in PLAIN_LAYERS.items()}


def total_bits(kif):
    """Total width ``k + i + f`` of each element of a type ``kif``, clamped at zero."""
    return np.maximum(kif[0] + kif[1] + kif[2], 0.0)


def value_kif(values):
    """Element-wise smallest fixed-point type ``(k, i, f)`` of each value (zero width for zeros).

    ``f`` is the fewest fractional bits that represent the value exactly (from its binary mantissa), ``k``
    its sign and ``i`` the fewest integer bits, as for any quantized weight.
    """
    v = np.asarray(values, dtype=np.float64)
    mantissa, exponent = np.frexp(v)
    m = np.abs(mantissa * 2.0**53).astype(np.int64)  # exact: |mantissa| < 1
    lowest = np.where(m > 0, m & -m, 1)
    f = np.where(v != 0, 53 - exponent - np.log2(lowest).astype(np.int64), 0).astype(np.float64)
    return tuple(as_numpy(a) for a in fxp.kif_from_range(ops.convert_to_tensor(v), ops.convert_to_tensor(v),
                                                         ops.convert_to_tensor(f)))


def _p_layer_kif(layer, input_kifs, input_shapes):
    """Output types of a plain pass-through layer (proxy), by the rule of the P-layer of the same configuration."""
    twin = P_LAYER_OF[type(layer)].from_config(layer.get_config())
    shapes = [(None, *s) for s in input_shapes]
    twin.build(shapes if len(shapes) > 1 else shapes[0])
    tensors = [tuple(ops.convert_to_tensor(a.astype("float32")) for a in kif) for kif in input_kifs]
    return twin.output_kif_from(tensors)


def output_kif(layer, input_kifs, input_shapes, output_shape):
    """``(k, i, f)`` of each output element of ``layer``, shaped ``(1, *output_shape)``, or ``None`` when unknown
    (a float output).

    Args:
        layer: any layer of an H-model or a proxy model.
        input_kifs: the type of each input (``None`` where unknown).
        input_shapes: the feature shape (batch axis dropped) of each input.
        output_shape: the feature shape of the (single) output.
    """
    if isinstance(layer, QuantizedOutput):
        try:
            kif = layer.output_kif()
        except ValueError:  # a P-layer fed by a float input
            return None
    elif isinstance(layer, FixedPointQuantizer):
        k, b, integers = (a.astype(np.float64) for a in layer.kbi())
        kif = (k, np.where(b > 0, integers - k, 0.0), np.where(b > 0, b - integers, 0.0))
    elif isinstance(layer, UnaryLUT):
        kif = tuple(float(a) for a in layer.kif_out)
    elif type(layer) in P_LAYER_OF and input_kifs and all(k is not None for k in input_kifs):
        kif = _p_layer_kif(layer, input_kifs, input_shapes)
    else:
        return None
    return tuple(np.broadcast_to(as_numpy(a), (1, *output_shape)) for a in kif)
