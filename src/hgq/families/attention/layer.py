"""HMultiHeadAttention: multi-head attention composed of H-layers, each with its own heterogeneous quantizers."""

import math

import keras

from ..einsum.layer import HEinsum
from ..hlayer import CompositeHLayer
from ..kernel.einsum_dense import HEinsumDense
from ..softmax.layer import WIDTH_ARGUMENTS, HSoftmax, check_widths

#: The parts of an attention layer, in the order of its computation.
PARTS = ("query", "key", "value", "scores", "softmax", "context", "output")


@keras.saving.register_keras_serializable(package="hgq")
class HMultiHeadAttention(CompositeHLayer):
    """``keras.layers.MultiHeadAttention`` on sequences ``(batch, tokens, features)``, composed of H-layers: the query,
    key and value projections (``HEinsumDense``), the scores ``HEinsum`` (queries by keys, per head), ``HSoftmax``
    over the keys (with ``scale = 1 / sqrt(key_dim)``), the context ``HEinsum`` (weights by values) and the output
    projection (``HEinsumDense``). Each part has its own trainable bit widths and BOPs; the layer's costs are theirs
    summed, its output quantizer is the output projection's, its export the parts' in sequence.

    Called as ``layer(query, value, key=None)`` (``key`` defaults to ``value``). Attention masks, causal masks and
    ``return_attention_scores`` are refused (hls4ml has no bit-exact masked softmax).

    Args:
        num_heads: number of heads.
        key_dim: size of each head for queries and keys.
        value_dim: size of each head for values (default ``key_dim``).
        output_shape: the output's feature size (default: the query's).
        use_bias: biases in the four projections.
        softmax: ``HSoftmax`` arguments (``implementation``, ``exp_bits``, ``inv_bits``, ``sum_bits``,
            ``norm_bits``, ``norm_integer_bits``, ...); the widths are checked (their ranges: ``HSoftmax``) here.
        beta: BOPs weight in the loss, for every part.
        kq_conf: kernel-quantizer options of the projections.
        paq_conf: output-quantizer options of every part.
        **kwargs: ``kernel_initializer``, ``bias_initializer`` and the other ``keras.layers.Layer`` arguments.

    Example:
        >>> tokens = keras.Input((8, 16))
        >>> x = HQuantize()(tokens)
        >>> y = HMultiHeadAttention(num_heads=2, key_dim=8, beta=1e-5)(x, x)   # self-attention
    """

    def __init__(self, num_heads, key_dim, value_dim=None, output_shape=None, use_bias=True, softmax=None, beta=0.0,
                 kq_conf=None, paq_conf=None, kernel_initializer="glorot_uniform", bias_initializer="zeros", **kwargs):
        super().__init__(beta=beta, kq_conf=kq_conf, paq_conf=paq_conf, **kwargs)
        self.num_heads, self.key_dim = int(num_heads), int(key_dim)
        self.value_dim = int(value_dim) if value_dim is not None else self.key_dim
        self.output_dim = None if output_shape is None else int(output_shape)
        self.use_bias, self.softmax_args = bool(use_bias), dict(softmax or {})
        check_widths(f"HMultiHeadAttention {self.name!r}", prefix="softmax ",
                     **{key: value for key, value in self.softmax_args.items() if key in WIDTH_ARGUMENTS})
        self.initializers = {"kernel_initializer": kernel_initializer, "bias_initializer": bias_initializer}

    def _projection(self, part, equation, shape, bias_axes):
        return HEinsumDense(equation, shape, bias_axes=bias_axes if self.use_bias else None, beta=self.beta,
                            kq_conf=self.kq_conf_, paq_conf=self.paq_conf_, name=f"{self.name}_{part}",
                            dtype=self.dtype_policy, **self.initializers)

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        for what, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if len(shape) != 3:
                raise ValueError(f"HMultiHeadAttention {self.name!r}: the {what} must be a sequence (batch, tokens, "
                                 f"features), got shape {tuple(shape)}")
        (_, t_q, d_q), (_, t_v, _) = query_shape, value_shape
        h, d_k, d_v = self.num_heads, self.key_dim, self.value_dim
        self.output_dim = self.output_dim or int(d_q)
        common = dict(beta=self.beta, paq_conf=self.paq_conf_, dtype=self.dtype_policy)
        self.query = self._projection("query", "abc,cde->abde", (t_q, h, d_k), "de")
        self.key = self._projection("key", "abc,cde->abde", (t_v, h, d_k), "de")
        self.value = self._projection("value", "abc,cde->abde", (t_v, h, d_v), "de")
        self.scores = HEinsum("abhd,aghd->ahbg", name=f"{self.name}_scores", **common)
        self.softmax = HSoftmax(axis=-1, **{"scale": 1.0 / math.sqrt(d_k), **self.softmax_args},
                                name=f"{self.name}_softmax", **common)
        self.context = HEinsum("ahbg,aghv->abhv", name=f"{self.name}_context", **common)
        self.output_projection = self._projection("output", "abhv,hvo->abo", (t_q, self.output_dim), "o")
        shapes = {"query": [query_shape], "key": [key_shape], "value": [value_shape],
                  "scores": [(None, t_q, h, d_k), (None, t_v, h, d_k)], "softmax": [(None, h, t_q, t_v)],
                  "context": [(None, h, t_q, t_v), (None, t_v, h, d_v)], "output": [(None, t_q, h, d_v)]}
        for name, shape in shapes.items():
            self.part(name).build(shape if len(shape) > 1 else shape[0])
        self._wire(shapes)
        self.built = True

    def _wire(self, shapes):
        """Tell each part where its inputs come from: the layer's inputs (from the model's graph) or other parts."""
        sources = {"query": [0], "key": [2], "value": [1], "scores": ["query", "key"], "softmax": ["scores"],
                   "context": ["softmax", "value"], "output": ["context"]}
        for name, inputs in sources.items():
            self.part(name).wire(lambda inputs=inputs, shape=shapes[name]: list(zip(
                [self.input_of(source) if isinstance(source, int) else self.part(source) for source in inputs],
                shape)))

    def input_of(self, index):
        """The layer that feeds the query (0), value (1) or key (2; the value's without one)."""
        producers = self.input_layers()
        return producers[index] if index < len(producers) else producers[1]

    def part(self, name):
        """The part ``name`` (one of ``PARTS``) of the layer."""
        return self.output_projection if name == "output" else getattr(self, name)

    def parts(self):
        return [self.part(name) for name in PARTS] if self.built else []

    def call(self, query, value, key=None, training=None, attention_mask=None, return_attention_scores=False,
             use_causal_mask=False):
        if attention_mask is not None or return_attention_scores or use_causal_mask:
            raise ValueError(f"HMultiHeadAttention {self.name!r}: attention masks, causal masks and "
                             "return_attention_scores are not supported (hls4ml has no bit-exact masked softmax)")
        key = value if key is None else key
        q, k, v = (self.part(n)(x, training=training) for n, x in (("query", query), ("key", key), ("value", value)))
        weights = self.softmax(self.scores([q, k], training=training), training=training)
        return self.output_projection(self.context([weights, v], training=training), training=training)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(num_heads=self.num_heads, key_dim=self.key_dim, value_dim=self.value_dim,
                   output_shape=self.output_dim, use_bias=self.use_bias, softmax=self.softmax_args,
                   **{key: keras.saving.serialize_keras_object(value) for key, value in self.initializers.items()})
        return cfg
