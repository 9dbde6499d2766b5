"""Signature: declares that a (model) input is already quantized to a given type."""

import keras
import numpy as np
from keras import ops

from ...quantizer import fixed_point as fxp
from ...quantizer.quantizer import ExactDType
from ...quantizer.types import kif_from_kbi
from ...validation import check_int_array
from ..hlayer import QuantizedOutput


@keras.saving.register_keras_serializable(package="hgq")
class Signature(ExactDType, QuantizedOutput, keras.layers.Layer):
    """Declare that the input is already quantized (e.g. samples of an ADC), so that an H-layer may follow it
    without an ``HQuantize``.

    An identity in the H-model (but in ``hgq.exported_outputs``, which computes the proxy's outputs); in the proxy
    model it becomes a ``FixedPointQuantizer`` (``TRN``, ``WRAP``) with the declared types. Arguments use hls4ml's
    convention, each a scalar or an array broadcastable to the input's feature shape (without the batch axis):

    Args:
        keep_negative: sign bit, 0 or 1.
        bits: total width (``>= 0``; 0 means the element is always zero).
        int_bits: integer width **including** the sign bit (``ap_fixed<bits, int_bits>``).

    Example:
        >>> x = keras.Input((16,))
        >>> y = HDense(5)(Signature(keep_negative=1, bits=8, int_bits=3)(x))   # ap_fixed<8,3> inputs
    """

    def __init__(self, keep_negative=1, bits=8, int_bits=1, **kwargs):
        super().__init__(**kwargs)
        owner = f"Signature {self.name!r}"
        k = check_int_array(owner, "keep_negative", keep_negative, 0, 1, allow_bool=True)  # a sign flag
        b = check_int_array(owner, "bits", bits, 0)  # 0: the element is always zero
        integers = check_int_array(owner, "int_bits", int_bits)  # ap_fixed's I: any integer
        try:
            np.broadcast_shapes(k.shape, b.shape, integers.shape)
        except ValueError:
            raise ValueError(f"Signature {self.name!r}: keep_negative, bits and int_bits have shapes {k.shape}, "
                             f"{b.shape}, {integers.shape}, which do not broadcast together") from None
        self.keep_negative, self.bits, self.int_bits = k, b, integers
        self.emulated_overflow = False  # True: truncate to the declared types and wrap, as the proxy does

    def build(self, input_shape):
        features = tuple(input_shape[1:])
        for key, arr in (("keep_negative", self.keep_negative), ("bits", self.bits), ("int_bits", self.int_bits)):
            try:
                np.broadcast_to(arr, features)
            except ValueError:
                raise ValueError(f"Signature {self.name!r}: {key} of shape {arr.shape} does not broadcast to "
                                 f"the input feature shape {features}") from None
        self._features = features
        self.built = True

    def call(self, inputs):
        if not self.emulated_overflow:
            return inputs
        k, i, f = (ops.cast(t, inputs.dtype) for t in self.output_kif())
        return fxp.apply_overflow(fxp.round_to_grid(inputs, f, "floor"), k, i, f, "WRAP")

    def compute_output_shape(self, input_shape):
        return input_shape

    def kbi(self):
        """hls4ml's ``(keep_negative, bits, integers)`` broadcast to ``(1, *features)``; ``keep_negative`` and
        ``integers`` are 0 where ``bits`` is 0."""
        shape = (1, *self._features)
        k, b, integers = (np.broadcast_to(a, shape) for a in (self.keep_negative, self.bits, self.int_bits))
        return np.where(b > 0, k, 0), b.copy(), np.where(b > 0, integers, 0)

    def output_kif(self):
        return tuple(ops.convert_to_tensor(a.astype("float32")) for a in kif_from_kbi(self.kbi()))

    def get_config(self):
        cfg = super().get_config()
        cfg.update(keep_negative=self.keep_negative.tolist(), bits=self.bits.tolist(),
                   int_bits=self.int_bits.tolist())
        return cfg
