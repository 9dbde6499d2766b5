"""The attention-era layers through the common checks of ``layer_base`` (as ``test_layers.py`` does for the others):
``HEinsum``, ``HSoftmax``, ``HMultiHeadAttention``, and the proxy layers ``Einsum`` and ``Softmax``."""

from hgq.layers import HEinsum, HEinsumDense, HMultiHeadAttention, HQuantize, HSoftmax
from hgq.families.softmax.layer import table_types
from hgq.proxy import Einsum, Softmax
from hgq.proxy_layers.quantize import apply_quantizer

from layer_base import NO_RESOURCE, LayerTest, ProxyLayerTest


class TestHEinsum(LayerTest):
    """The product of two quantized branches of different types: the producer and an HEinsumDense of it."""

    layer_cls = HEinsum
    strategies = NO_RESOURCE
    kwargs = {"equation": "abc,adc->abd", "beta": 1e-5}
    input_shape = (3, 4)
    expected_weights, expected_trainable_weights, expected_non_trainable_weights = 4, 1, 3  # paq; min, max, beta

    def connect(self, layer, inp):
        h = HQuantize(paq_conf={"init_bw": 4}, name="producer")(inp)
        return layer([h, HEinsumDense("abc,cd->abd", (3, 4), bias_axes="d", name="branch")(h)])


class TestHSoftmax(LayerTest):
    layer_cls = HSoftmax
    kwargs = {"norm_bits": 6, "sum_bits": 8, "beta": 1e-5}
    input_shape = (5,)
    # paq widths; paq min, max, beta, the exp and inverse tables
    expected_weights, expected_trainable_weights, expected_non_trainable_weights = 6, 1, 5


class TestHMultiHeadAttention(LayerTest):
    layer_cls = HMultiHeadAttention
    strategies = NO_RESOURCE
    kwargs = {"num_heads": 2, "key_dim": 3, "beta": 1e-5}
    input_shape = (4, 6)
    # four projections (kernel, bias, kq widths, paq widths; paq min, max, beta), scores and context (paq widths;
    # min, max, beta), the softmax (the same and its two tables), its own beta
    expected_weights = 4 * 7 + 2 * 4 + 6 + 1
    expected_trainable_weights = 4 * 4 + 2 * 1 + 1
    expected_non_trainable_weights = 4 * 3 + 2 * 3 + 5 + 1

    def connect(self, layer, inp):
        h = HQuantize(paq_conf={"init_bw": 4}, name="producer")(inp)
        return layer(h, h)


class TestEinsum(ProxyLayerTest):
    """Input -> two quantizers of different types -> this einsum -> a quantizer."""

    layer_cls = Einsum
    kwargs = {"equation": "abc,adc->abd"}
    input_shape = (3, 4)
    expected_weights = 0

    def connect(self, layer, inp):
        a = apply_quantizer(inp, (1, 6, 3), "RND", "WRAP", "a_q")
        b = apply_quantizer(inp, ([[0, 1, 1, 0]], [[4, 5, 3, 6]], [[2, 2, 1, 4]]), "TRN", "WRAP", "b_q")
        return apply_quantizer(layer([a, b]), (1, 14, 7), "TRN", "WRAP", "out_q")


class TestSoftmax(ProxyLayerTest):
    """Input -> a quantizer (the scores) -> this softmax (stable, tables of 2^6 and 2^8 entries) -> a quantizer."""

    layer_cls = Softmax
    kwargs = {"tables": table_types("stable", 5, 10, 10, 8, 6, 4, None).get_config(), "axis": -1}
    input_shape = (5,)
    expected_weights, expected_non_trainable_weights = 2, 2  # the exp and inverse tables

    def connect(self, layer, inp):
        scores = apply_quantizer(inp, (1, 8, 4), "RND", "SAT", "scores_q")
        return apply_quantizer(layer(scores), (0, 9, 1), "RND", "SAT", "out_q")
