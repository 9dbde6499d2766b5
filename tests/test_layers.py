"""Every layer through the common checks of ``layer_base``: config, .keras file, weight counts, symbolic and eager
shapes; for H- and P-layers one training step (float32 and mixed_bfloat16), proxy equality and hls4ml
bit-exactness; for the proxy layers hls4ml bit-exactness. Shapes are small; the hls4ml checks of every class are
compiled side by side, one project per io type and strategy (``bitexact.layer_project``). A new layer type adds its
entry here; what is special to its family goes in the family's module (``test_merges.py``, ``test_softmax.py``, ...).

Weight counts: an output quantizer has its widths (trainable) and min/max records (not trainable), a kernel
quantizer its widths only; every H-layer has a non-trainable ``beta``; P-layers and ``Signature`` have none."""

import keras
import numpy as np
import pytest

from hgq.layers import (HActivation, HAdd, HBatchNormalization, HConv1D, HConv1DBatchNorm, HConv2D,
                        HConv2DBatchNorm, HDense, HDenseBatchNorm, HDepthwiseConv1D,
                        HDepthwiseConv2D, HEinsumDense, HEinsumDenseBatchNorm, HLayer,
                        HQuantize, HSeparableConv1D, HSeparableConv2D, PAveragePooling1D, PAveragePooling2D, PConcatenate, PFlatten,
                        PGlobalAveragePooling1D, PGlobalAveragePooling2D, PGlobalMaxPooling1D, PGlobalMaxPooling2D,
                        PMaxPooling1D, PMaxPooling2D, PPermute, PReshape, Signature)
from hgq.layers import PCropping1D, PCropping2D, PUpSampling1D, PUpSampling2D, PZeroPadding1D, PZeroPadding2D
from hgq.layers import (HGRU, HLSTM, HAverage, HBidirectional, HEinsum, HEmbedding, HLayerNormalization, HMaximum,
                        HMinimum, HMultiHeadAttention, HMultiply, HPReLU, HSoftmax, HSubtract)
from hgq.families.activation import ParametricELU, ParametricReLU
from hgq.families.softmax.layer import table_types
from hgq.proxy import (GRU, LSTM, BatchNormalization, Bidirectional, Einsum, FixedPointQuantizer, LayerNormalization,
                       Softmax, UnaryLUT)
from hgq.families.recurrent.arithmetic import RecurrentArithmetic
from hgq.families.recurrent.spec import one_type_input, state_quantizer
from hgq.quantizer.fixed_type import FixedType
from hgq.proxy_layers.quantize import apply_quantizer
from hgq.quantizer.types import all_values, minimal_kif, union_kif

from conftest import on_grid
from layer_base import NO_RESOURCE, SAME_CODE, LayerChecks, LayerTest, ProxyLayerTest


class TestHQuantize(LayerTest):
    mixed_training_step = True
    strategies = SAME_CODE
    layer_cls = HQuantize
    kwargs = {"paq_conf": {"init_bw": 4, "rnd_strategy": "standard_round"}}
    # paq widths; paq min, max, beta
    expected_weights, expected_trainable_weights, expected_non_trainable_weights = 4, 1, 3

    def connect(self, layer, inp):
        return layer(inp)


class KernelLayerTest(LayerTest):
    # kernel, bias, kq widths, paq widths; paq min, max, beta
    expected_weights, expected_trainable_weights, expected_non_trainable_weights = 7, 4, 3


class TestHDense(KernelLayerTest):
    mixed_training_step = True
    layer_cls = HDense
    kwargs = {"units": 4, "activation": "relu", "beta": 1e-5}


class TestHConv1D(KernelLayerTest):
    layer_cls = HConv1D
    kwargs = {"filters": 3, "kernel_size": 3, "padding": "same", "parallel_factor": 2, "beta": 1e-5}
    input_shape = (8, 2)


class TestHConv2D(KernelLayerTest):
    mixed_training_step = True
    layer_cls = HConv2D
    kwargs = {"filters": 3, "kernel_size": 3, "strides": 2, "activation": "relu", "beta": 1e-5}
    input_shape = (7, 7, 2)


class TestHDepthwiseConv1D(KernelLayerTest):
    strategies = SAME_CODE
    layer_cls = HDepthwiseConv1D
    kwargs = {"kernel_size": 3, "padding": "same", "parallel_factor": 2, "activation": "relu", "beta": 1e-5}
    input_shape = (8, 2)


class TestHDepthwiseConv2D(KernelLayerTest):
    strategies = SAME_CODE
    layer_cls = HDepthwiseConv2D
    project = "2-D depthwise"  # its header's include guard is the 1-D one's (hls4ml 1.3)
    kwargs = {"kernel_size": 3, "strides": 2, "beta": 1e-5}
    input_shape = (7, 7, 2)


class SeparableConvTest(LayerTest):
    strategies = NO_RESOURCE
    # depthwise part (kernel, kq widths, paq widths; paq min, max, beta), pointwise part (the same and a bias), its
    # own beta
    expected_weights, expected_trainable_weights, expected_non_trainable_weights = 6 + 7 + 1, 3 + 4, 3 + 3 + 1


class TestHSeparableConv1D(SeparableConvTest):
    layer_cls = HSeparableConv1D
    kwargs = {"filters": 3, "kernel_size": 3, "padding": "same", "activation": "relu", "beta": 1e-5}
    input_shape = (8, 2)


class TestHSeparableConv2D(SeparableConvTest):
    mixed_training_step = True
    layer_cls = HSeparableConv2D
    kwargs = {"filters": 3, "kernel_size": 2, "strides": 2, "parallel_factor": 3, "beta": 1e-5}
    input_shape = (6, 6, 2)
    project = "2-D depthwise"


class TestHEinsumDense(KernelLayerTest):
    mixed_training_step = True
    strategies = NO_RESOURCE
    layer_cls = HEinsumDense
    kwargs = {"equation": "abc,cd->abd", "output_shape": (3, 4), "bias_axes": "d", "activation": "relu", "beta": 1e-5}
    input_shape = (3, 5)


class TestHActivation(LayerTest):
    mixed_training_step = True
    strategies = SAME_CODE
    layer_cls = HActivation
    kwargs = {"activation": "tanh", "paq_conf": {"init_bw": 5}}  # a lookup table in the proxy
    expected_weights, expected_trainable_weights, expected_non_trainable_weights = 4, 1, 3


class TestHActivationParametricReLU(TestHActivation):
    """Keras' ``ReLU(max_value, negative_slope, threshold)`` as ``quantize_model`` maps it: a table in the proxy."""

    kwargs = {"activation": ParametricReLU(negative_slope=0.25, max_value=2.0, threshold=-0.5),
              "paq_conf": {"init_bw": 5}}


class TestHActivationParametricELU(TestHActivation):
    kwargs = {"activation": ParametricELU(alpha=0.5), "paq_conf": {"init_bw": 5}}


class TestHPReLU(LayerTest):
    mixed_training_step = True
    strategies = SAME_CODE
    layer_cls = HPReLU
    kwargs = {"alpha_initializer": "random_normal", "shared_axes": [1], "beta": 1e-5}
    input_shape = (4, 3)
    # alpha, kq widths, paq widths; paq min, max, beta
    expected_weights, expected_trainable_weights, expected_non_trainable_weights = 6, 3, 3


class TestHLayerNormalization(LayerTest):
    strategies = SAME_CODE
    layer_cls = HLayerNormalization
    kwargs = {"gamma_initializer": "random_normal", "beta_initializer": "random_normal", "accum_fractional_bits": 8,
              "table_size": 256, "table_bits": 10, "beta": 1e-5}
    input_shape = (3, 8)
    # ln_gamma, ln_beta, kq widths, paq widths; tables, variance widths, min, max, paq min, max, beta
    expected_weights, expected_trainable_weights, expected_non_trainable_weights = 11, 4, 7


class TestHGRU(LayerTest):
    strategies = ("latency", "resource")
    layer_cls = HGRU
    kwargs = {"units": 2, "return_sequences": True, "bias_initializer": "random_normal", "table_size": 256,
              "table_bits": 10, "beta": 1e-5}
    input_shape = (3, 3)
    # kernel, recurrent_kernel, bias, kq, rkq and paq widths; tables, paq min, max, beta
    expected_weights, expected_trainable_weights, expected_non_trainable_weights = 10, 6, 4


class TestHLSTM(TestHGRU):
    layer_cls = HLSTM
    kwargs = {**TestHGRU.kwargs, "return_sequences": False}


class TestHBidirectional(TestHGRU):
    """A bidirectional LSTM (hls4ml's static code only: an exact accumulator, not the one type)."""

    layer_cls = HBidirectional
    kwargs = {"layer": HLSTM(2, return_sequences=True, bias_initializer="random_normal", table_size=256,
                             table_bits=10), "beta": 1e-5}
    # kernel, recurrent_kernel, bias twice, four kernel quantizers' and paq widths; tables, paq min, max, beta
    expected_weights, expected_trainable_weights, expected_non_trainable_weights = 15, 11, 4


class TestHEmbedding(LayerTest):
    mixed_training_step = True
    strategies = SAME_CODE
    layer_cls = HEmbedding
    kwargs = {"input_dim": 12, "output_dim": 3, "embeddings_initializer": keras.initializers.RandomUniform(-4.0, 4.0)}
    input_shape = (4,)
    scales = ()  # indices past the table, negative ones and fractions are in data(): they wrap as in hls4ml
    # embeddings, kq widths, paq widths; paq min, max, beta
    expected_weights, expected_trainable_weights, expected_non_trainable_weights = 6, 3, 3

    def connect(self, layer, inp):
        return layer(inp)

    def data(self):
        rng = np.random.default_rng(self.seed)
        return rng.uniform(-20, 40, size=(self.n_samples, *self.input_shape)).astype("float32")


class MergeTest(LayerTest):
    """Two quantized branches of different types: an HDense of the producer, and the producer itself."""

    strategies = SAME_CODE
    kwargs = {"paq_conf": {"rnd_strategy": "standard_round"}}
    input_shape = (4,)
    expected_weights, expected_trainable_weights, expected_non_trainable_weights = 4, 1, 3

    def connect(self, layer, inp):
        h = HQuantize(paq_conf={"init_bw": 4}, name="producer")(inp)
        return layer([HDense(4, name="branch")(h), h])


class TestHAdd(MergeTest):
    mixed_training_step = True
    layer_cls = HAdd


class TestHSubtract(MergeTest):
    layer_cls = HSubtract
    kwargs = {}  # rnd_strategy="auto": floors


class TestHMultiply(MergeTest):
    layer_cls = HMultiply
    kwargs = {"beta": 1e-5}


class TestHAverage(MergeTest):
    layer_cls = HAverage


class TestHMaximum(MergeTest):
    layer_cls = HMaximum


class TestHMinimum(MergeTest):
    layer_cls = HMinimum
    kwargs = {}


class BatchNormTest(LayerTest):
    """Random moving statistics, so the fused kernel and bias differ from the raw ones."""

    # kernel, bias, bn_gamma, bn_beta, kq widths, paq widths; moving mean and variance, paq min, max, beta
    expected_weights, expected_trainable_weights, expected_non_trainable_weights = 11, 6, 5

    def make_layer(self):
        layer = super().make_layer()
        layer.build((None, *self.input_shape))
        rng = np.random.default_rng(self.seed + 3)
        c = tuple(layer.moving_mean.shape)  # the bias's shape
        layer.moving_mean.assign(rng.normal(size=c).astype("float32"))
        layer.moving_variance.assign(rng.uniform(0.2, 3.0, c).astype("float32"))
        layer.bn_gamma.assign(rng.uniform(0.5, 2.0, c).astype("float32"))
        return layer


class TestHDenseBatchNorm(BatchNormTest):
    layer_cls = HDenseBatchNorm
    kwargs = {"units": 4, "activation": "relu", "momentum": 0.9, "beta": 1e-5}


class TestHConv1DBatchNorm(BatchNormTest):
    layer_cls = HConv1DBatchNorm
    kwargs = {"filters": 3, "kernel_size": 3, "strides": 2, "use_bias": False, "beta": 1e-5}
    input_shape = (8, 2)
    expected_trainable_weights, expected_non_trainable_weights = 5, 6  # use_bias=False: a frozen zero bias


class TestHConv2DBatchNorm(BatchNormTest):
    layer_cls = HConv2DBatchNorm
    kwargs = {"filters": 3, "kernel_size": 2, "activation": "relu", "beta": 1e-5}
    input_shape = (5, 5, 2)


class TestHEinsumDenseBatchNorm(BatchNormTest):
    strategies = NO_RESOURCE
    """Statistics per element of a bias spanning two output axes."""

    layer_cls = HEinsumDenseBatchNorm
    kwargs = {"equation": "abc,cde->abde", "output_shape": (3, 2, 4), "bias_axes": "de", "activation": "relu",
              "beta": 1e-5}
    input_shape = (3, 5)


class TestHBatchNormalization(BatchNormTest):
    mixed_training_step = True
    strategies = SAME_CODE
    layer_cls = HBatchNormalization
    kwargs = {"momentum": 0.9, "beta": 1e-5}
    input_shape = (3, 4)
    # bn_gamma, bn_beta, kq widths, paq widths; moving mean and variance, paq min, max, beta
    expected_weights, expected_trainable_weights, expected_non_trainable_weights = 9, 4, 5


# ---------------------------------------------------------------------------------------------- P-layers


class PLayerTest(LayerTest):
    """A P-layer moves values: hls4ml's strategies choose how kernels multiply, and it has none, so its code is the
    same under each; it is checked under Latency (a kernel layer beside it in ``connect`` is checked under every
    strategy by its own entry)."""

    expected_weights = 0
    strategies = ("latency",)


class TestPFlatten(PLayerTest):
    mixed_training_step = True
    layer_cls = PFlatten
    input_shape = (3, 2, 2)


class TestPReshape(PLayerTest):
    layer_cls = PReshape
    kwargs = {"target_shape": (3, 4)}
    input_shape = (4, 3)


class TestPConcatenate(PLayerTest):
    layer_cls = PConcatenate
    input_shape = (4,)

    def connect(self, layer, inp):
        h = HQuantize(paq_conf={"init_bw": 4}, name="producer")(inp)
        return layer([h, HDense(3, name="branch")(h)])


def pooling_test(layer_cls, input_shape, **kwargs):
    return type(f"Test{layer_cls.__name__}", (PLayerTest,),
                {"layer_cls": layer_cls, "kwargs": kwargs, "input_shape": input_shape})


TestPMaxPooling1D = pooling_test(PMaxPooling1D, (7, 2), pool_size=2, strides=1)
TestPMaxPooling2D = pooling_test(PMaxPooling2D, (4, 4, 2), pool_size=2)
TestPAveragePooling1D = pooling_test(PAveragePooling1D, (8, 2), pool_size=4)
TestPAveragePooling2D = pooling_test(PAveragePooling2D, (5, 4, 2), pool_size=2, padding="same")
TestPGlobalMaxPooling1D = pooling_test(PGlobalMaxPooling1D, (5, 3))
TestPGlobalMaxPooling2D = pooling_test(PGlobalMaxPooling2D, (3, 2, 2), keepdims=True)
TestPGlobalAveragePooling1D = pooling_test(PGlobalAveragePooling1D, (8, 3))
TestPGlobalAveragePooling2D = pooling_test(PGlobalAveragePooling2D, (2, 4, 3))


TestPZeroPadding1D = pooling_test(PZeroPadding1D, (5, 2), padding=(1, 2))
TestPZeroPadding2D = pooling_test(PZeroPadding2D, (3, 2, 2), padding=((1, 0), (2, 1)))
TestPCropping1D = pooling_test(PCropping1D, (6, 2), cropping=(2, 1))
TestPCropping2D = pooling_test(PCropping2D, (4, 5, 2), cropping=((1, 0), (1, 2)))
TestPUpSampling1D = pooling_test(PUpSampling1D, (3, 2), size=2)
TestPUpSampling2D = pooling_test(PUpSampling2D, (2, 3, 2), size=(2, 1))


class TestPPermute(PLayerTest):
    layer_cls = PPermute
    kwargs = {"dims": (2, 1)}
    input_shape = (4, 3)


class TestSignature(PLayerTest):
    """Declared types of every kind (signed, unsigned, negative integer bits), inputs on their grids; an HDense
    after it (a proxy of one quantizer after the input does not compile in hls4ml)."""

    layer_cls = Signature
    kwargs = {"keep_negative": [1, 0, 1, 1], "bits": [6, 5, 3, 8], "int_bits": [3, 2, 0, 4]}
    input_shape = (4,)

    def connect(self, layer, inp):
        return HDense(3, name="after")(layer(inp))

    def data(self):
        return on_grid(**self.kwargs, size=(self.n_samples, *self.input_shape), rng=np.random.default_rng(self.seed))


# ------------------------------------------------------------------------------------------- proxy layers


def grid_dense(x, units, seed):
    """A float64 Dense on ``x`` with weights on a 1/4 grid (exact; hls4ml derives their types from the values)."""
    dense = keras.layers.Dense(units, name="dense", dtype="float64")
    y = dense(x)
    rng = np.random.default_rng(seed)
    dense.set_weights([rng.integers(-4, 5, size=w.shape) / 4 for w in dense.get_weights()])
    return y


class TestFixedPointQuantizer(ProxyLayerTest):
    """Input -> this quantizer (a type per element, RND, SAT) -> Dense -> a quantizer (TRN, WRAP)."""

    layer_cls = FixedPointQuantizer
    kwargs = {"kbi_shape": (1, 6), "RND": "RND", "SAT": "SAT", "fusible": False, "dtype": "float64",
              "overrides": {"layers": {"dense": {"parallelization_factor": 1}}}}
    kbi = ([1, 1, 0, 1, 0, 1], [6, 4, 5, 3, 2, 8], [3, 1, 2, 0, 1, 4])
    expected_weights, expected_non_trainable_weights = 3, 3  # keep_negative, bits, integers

    def connect(self, layer, inp):
        y = layer(inp)
        layer.set_kbi(*self.kbi)
        return apply_quantizer(grid_dense(y, 3, self.seed), (1, 9, 4), "TRN", "WRAP", "out_q")


TANH_KIF = (1, 1, 3)  # fixed<1, 1, 3>: a 32-entry table
TANH_TABLE = np.floor(np.tanh(all_values(*TANH_KIF)) * 64) / 64


class TestUnaryLUT(ProxyLayerTest):
    """Input -> a quantizer of the table's input type (TRN, WRAP) -> this table (tanh) -> Dense -> a quantizer."""

    layer_cls = UnaryLUT
    kwargs = {"table_size": TANH_TABLE.size, "kif_in": TANH_KIF, "kif_out": union_kif(minimal_kif(TANH_TABLE))}
    expected_weights, expected_non_trainable_weights = 1, 1  # table

    def connect(self, layer, inp):
        k, i, f = TANH_KIF
        y = layer(apply_quantizer(inp, (k, k + i + f, k + i), "TRN", "WRAP", "in_q"))
        layer.set_weights([TANH_TABLE])
        return apply_quantizer(grid_dense(y, 3, self.seed), (1, 10, 4), "TRN", "WRAP", "out_q")


class TestBatchNormalization(ProxyLayerTest):
    """Input -> a quantizer (a type per element, RND, SAT) -> this layer as ``HBatchNormalization`` exports it
    (``gamma = s``, ``beta = o``, mean 0, variance + epsilon = 1: exactly ``x * s + o``) -> a quantizer (TRN, WRAP)."""

    layer_cls = BatchNormalization
    kwargs = {"epsilon": 0.5, "dtype": "float64"}
    expected_weights, expected_trainable_weights, expected_non_trainable_weights = 4, 2, 2

    def connect(self, layer, inp):
        y = layer(apply_quantizer(inp, ([1, 1, 0, 1, 1, 0], [6, 4, 5, 3, 7, 8], [3, 1, 2, 0, 2, 4]), "RND", "SAT",
                                  "in_q"))
        rng = np.random.default_rng(self.seed)
        layer.set_weights([rng.integers(-8, 9, 6) / 4, rng.integers(-16, 17, 6) / 8, np.zeros(6), np.full(6, 0.5)])
        return apply_quantizer(y, (1, 12, 6), "TRN", "WRAP", "out_q")


# --------------------------------------------------------------------------------- the attention era


class TestHEinsum(LayerTest):
    """The product of two quantized branches of different types: the producer and an HEinsumDense of it."""

    mixed_training_step = True

    layer_cls = HEinsum
    strategies = SAME_CODE
    kwargs = {"equation": "abc,adc->abd", "beta": 1e-5}
    input_shape = (3, 4)
    expected_weights, expected_trainable_weights, expected_non_trainable_weights = 4, 1, 3  # paq; min, max, beta

    def connect(self, layer, inp):
        h = HQuantize(paq_conf={"init_bw": 4}, name="producer")(inp)
        return layer([h, HEinsumDense("abc,cd->abd", (3, 4), bias_axes="d", name="branch")(h)])


class TestHSoftmax(LayerTest):
    mixed_training_step = True
    strategies = SAME_CODE
    layer_cls = HSoftmax
    kwargs = {"norm_bits": 6, "sum_bits": 8, "beta": 1e-5}
    input_shape = (5,)
    # paq widths; paq min, max, beta, the exp and inverse tables
    expected_weights, expected_trainable_weights, expected_non_trainable_weights = 6, 1, 5


class TestHMultiHeadAttention(LayerTest):
    mixed_training_step = True
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


class TestGRU(ProxyLayerTest):
    """Input -> a quantizer -> this GRU (3 units over 4 steps, 64-entry tables) -> a quantizer of its state type."""

    layer_cls = GRU
    arithmetic = RecurrentArithmetic("gru", 3, 4, 64, FixedType(1, 0, 9, "TRN", "WRAP"))
    kwargs = {"arithmetic": arithmetic.get_config(), "accum_t": {"k": 1, "i": 6, "f": 9}, "return_sequences": True,
              "state_t": {"k": 1, "i": 1, "f": 6, "rounding": "RND"}}
    input_shape = (4, 2)
    expected_weights, expected_non_trainable_weights = 5, 5  # kernel, recurrent_kernel, bias, recurrent_bias, tables

    def connect(self, layer, inp):
        x = apply_quantizer(inp, (1, 6, 3), "RND", "SAT", "x_q")  # |x| < 4, 3 fractional bits: dense sums fit
        rng = np.random.default_rng(self.seed)
        a = layer.arithmetic
        width = a.gates * a.units
        return state_quantizer(self.with_weights(layer, x, rng, width), layer.state_t, "out_q")

    def with_weights(self, layer, x, rng, width):
        """``layer`` called on ``x``, with random weights on grids (each direction's)."""
        y = layer(x)
        grid = lambda shape, step: np.round(rng.uniform(-1, 1, size=shape) / step) * step  # noqa: E731
        weights = []
        for _ in layer.PREFIXES:
            weights += [grid((int(x.shape[-1]), width), 2.0**-3), grid((layer.arithmetic.units, width), 2.0**-3),
                        grid((width,), 2.0**-6),
                        grid((width,), 2.0**-6) if layer.arithmetic.cell == "gru" else np.zeros(width)]
        layer.set_weights([*weights, keras.ops.convert_to_numpy(layer.tables)])
        return y


class TestLSTM(TestGRU):
    """Input -> a quantizer -> the LSTM's one-type input quantizer -> this LSTM -> a quantizer of its one type."""

    layer_cls = LSTM
    arithmetic = RecurrentArithmetic("lstm", 3, 4, 64, FixedType(1, 0, 9, "TRN", "WRAP"))
    one_type = {"k": 1, "i": 5, "f": 7, "rounding": "RND"}
    kwargs = {"arithmetic": arithmetic.get_config(), "accum_t": one_type, "state_t": one_type}

    def connect(self, layer, inp):
        x = apply_quantizer(inp, (1, 6, 3), "RND", "SAT", "x_q")
        x = one_type_input(x, layer.state_t, "layer")
        rng = np.random.default_rng(self.seed)
        width = layer.arithmetic.gates * layer.arithmetic.units
        return state_quantizer(self.with_weights(layer, x, rng, width), layer.state_t, "out_q")


class TestBidirectional(TestGRU):
    """Input -> a quantizer -> this bidirectional LSTM (static code only: an exact accumulator) -> a quantizer of its
    state type."""

    layer_cls = Bidirectional
    arithmetic = RecurrentArithmetic("lstm", 3, 4, 64, FixedType(1, 0, 9, "TRN", "WRAP"), one_type=False)
    kwargs = {"arithmetic": arithmetic.get_config(), "accum_t": {"k": 1, "i": 6, "f": 9}, "return_sequences": True,
              "state_t": {"k": 1, "i": 3, "f": 6, "rounding": "RND"}}
    expected_weights, expected_non_trainable_weights = 9, 9  # both directions' four weights, the tables


class TestLayerNormalization(ProxyLayerTest):
    """Input -> a quantizer -> this layer normalization (rows of 6, a 16-entry table covering variances below 1/2)
    -> a quantizer."""

    layer_cls = LayerNormalization
    kwargs = {"arithmetic": {"dim": 6, "accum_f": 8, "epsilon_power_of_10": 3, "table_size": 16,
                             "table_t": {"k": 0, "i": 5, "f": 5, "rounding": "RND", "overflow": "SAT"}},
              "accum_t": {"k": 1, "i": 12, "f": 8, "rounding": "TRN", "overflow": "WRAP"}, "range_power2": 1}
    input_shape = (2, 6)
    expected_weights, expected_non_trainable_weights = 3, 3  # gamma, beta, the table

    def connect(self, layer, inp):
        x = apply_quantizer(inp, (1, 6, 2), "RND", "SAT", "x_q")  # |x| < 16: the sum of squares fits 12 bits
        y = layer(x)
        scale, offset = np.array([-2, -1.25, -0.5, 0.5, 1.25, 2]), np.array([-1, -0.625, -0.25, 0.25, 0.625, 1])
        layer.set_weights([scale, offset, keras.ops.convert_to_numpy(layer.table)])  # on a grid, as exported
        return apply_quantizer(y, (1, 10, 6), "RND", "SAT", "out_q")


@pytest.mark.once
def test_every_layer_class_has_an_entry():
    """Each class of ``hgq.layers`` (but the abstract ``HLayer``) and each proxy layer (the layer classes of
    ``hgq.proxy``) has a test class here."""
    import hgq.proxy

    tested = {entry.layer_cls for entry in globals().values()
              if isinstance(entry, type) and issubclass(entry, LayerChecks) and entry.layer_cls is not None}
    wanted = ({getattr(hgq.layers, name) for name in hgq.layers.__all__} - {HLayer}
              | {cls for cls in map(vars(hgq.proxy).get, hgq.proxy.__all__)
                 if isinstance(cls, type) and issubclass(cls, keras.layers.Layer)})
    assert sorted(cls.__name__ for cls in wanted - tested) == []
