"""HEmbedding: ``keras.layers.Embedding`` with a per-entry quantized table and a quantized output, reading its
indices as hls4ml's firmware does."""

import math

import keras
from keras import ops

from ...quantizer import Quantizer
from ...quantizer import config as qconfig
from ..hlayer import HLayer


def index_bits(input_dim):
    """Bits of the unsigned integer type that holds every index below ``input_dim`` (at least 1)."""
    return max(1, math.ceil(math.log2(input_dim)))


@keras.saving.register_keras_serializable(package="hgq")
class HEmbedding(HLayer, keras.layers.Embedding):
    """``keras.layers.Embedding`` with heterogeneous quantization: one trainable fractional width per table entry
    (``kq_conf``), the looked-up vectors quantized by ``paq`` (``paq_conf``). It multiplies nothing: no BOPs (its
    table's widths are its cost, in the cost report's weight memory).

    Indices are read as the exported firmware reads them: an input ``x`` is the index ``floor(x) mod 2^n``, ``n`` the
    bits of ``input_dim - 1`` (``index_bits``), and an index at or past ``input_dim`` reads a row of zeros. Inside
    ``[0, input_dim)`` that is Keras' lookup; outside it the H-model, its proxy and hls4ml agree (Keras itself fails
    or clamps there).

    Args:
        input_dim: the number of indices (rows of the table).
        output_dim: the size of each vector.
        beta: accepted for uniformity (no BOPs).
        kq_conf: table-quantizer options overriding the defaults (see ``get_default_kq_conf``).
        paq_conf: output-quantizer options overriding the defaults (see ``get_default_paq_conf``).
        **kwargs: any other ``keras.layers.Embedding`` argument (``embeddings_initializer``, ...; ``mask_zero``
            must be False: hls4ml computes no mask).

    Example:
        >>> tokens = keras.Input((8,), dtype="int32")
        >>> y = HEmbedding(100, 16)(tokens)
    """

    def __init__(self, input_dim, output_dim, beta=0.0, kq_conf=None, paq_conf=None, **kwargs):
        super().__init__(input_dim=input_dim, output_dim=output_dim, beta=beta, paq_conf=paq_conf, **kwargs)
        if self.mask_zero:
            raise ValueError(f"HEmbedding {self.name!r}: mask_zero=True is not supported (hls4ml computes no mask); "
                             "use mask_zero=False")
        self.kq = Quantizer(kq_conf, kind="kernel", owner=self.name, name=f"{self.name}_kq")

    @property
    def kq_conf(self):
        """The full config of the table quantizer."""
        return self.kq.conf

    def build(self, input_shape=None):
        super().build(input_shape)
        self.kq.build(self.embeddings.shape)
        self.paq.build((None, *(input_shape or (None,))[1:], self.output_dim))

    def rows(self):
        """Rows the firmware's table has: ``2^index_bits(input_dim)``, those past ``input_dim`` zero."""
        return 2 ** index_bits(self.input_dim)

    def quantized_table(self, training=None):
        """The table as quantized by ``kq``, padded with zero rows to ``rows()``."""
        table = self.kq(self.embeddings, training=training)
        padding = ops.zeros((self.rows() - self.input_dim, self.output_dim), dtype=table.dtype)
        return ops.concatenate([table, padding], axis=0)

    def call(self, inputs, training=None):
        index = ops.mod(ops.floor(ops.cast(inputs, "float32")), float(self.rows()))
        vectors = ops.take(self.quantized_table(training), ops.cast(index, "int32"), axis=0)
        return self.paq(vectors, training=training)

    def quantizers(self):
        return [self.kq, self.paq]

    def get_config(self):
        cfg = super().get_config()
        cfg.update(kq_conf=qconfig.serialize(self.kq_conf))
        return cfg
