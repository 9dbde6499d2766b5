"""Every layer through the common checks of ``layer_base``: config, .keras file, weight counts, symbolic and eager
shapes; for H- and P-layers one training step (float32 and mixed_bfloat16), proxy equality and hls4ml
bit-exactness; for the proxy layers hls4ml bit-exactness. Shapes are small: one hls4ml project per layer.

Weight counts: an output quantizer has its widths (trainable) and min/max records (not trainable), a kernel
quantizer its widths only; every H-layer has a non-trainable ``beta``; P-layers and ``Signature`` have none."""

import keras
import numpy as np
import pytest

from hgq.layers import (HActivation, HAdd, HBatchNormalization, HConv1D, HConv1DBatchNorm, HConv2D,
                        HConv2DBatchNorm, HDense, HDenseBatchNorm, HEinsumDense, HEinsumDenseBatchNorm, HLayer,
                        HQuantize, PAveragePooling1D, PAveragePooling2D, PConcatenate, PFlatten, PMaxPooling1D,
                        PMaxPooling2D, PReshape, Signature)
from hgq.layers import HMaximum, HMinimum, HMultiply, HSubtract
from hgq.proxy import BatchNormalization, FixedPointQuantizer, UnaryLUT
from hgq.proxy_layers.quantize import apply_quantizer
from hgq.quantizer.types import all_values, minimal_kif, union_kif

from conftest import on_grid
from layer_base import NO_RESOURCE, LayerChecks, LayerTest, ProxyLayerTest


class TestHQuantize(LayerTest):
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
    layer_cls = HDense
    kwargs = {"units": 4, "activation": "relu", "beta": 1e-5}


class TestHConv1D(KernelLayerTest):
    layer_cls = HConv1D
    kwargs = {"filters": 3, "kernel_size": 3, "padding": "same", "parallel_factor": 2, "beta": 1e-5}
    input_shape = (8, 2)


class TestHConv2D(KernelLayerTest):
    layer_cls = HConv2D
    kwargs = {"filters": 3, "kernel_size": 3, "strides": 2, "activation": "relu", "beta": 1e-5}
    input_shape = (7, 7, 2)


class TestHEinsumDense(KernelLayerTest):
    strategies = NO_RESOURCE
    layer_cls = HEinsumDense
    kwargs = {"equation": "abc,cd->abd", "output_shape": (3, 4), "bias_axes": "d", "activation": "relu", "beta": 1e-5}
    input_shape = (3, 5)


class TestHActivation(LayerTest):
    layer_cls = HActivation
    kwargs = {"activation": "tanh", "paq_conf": {"init_bw": 5}}  # a lookup table in the proxy
    expected_weights, expected_trainable_weights, expected_non_trainable_weights = 4, 1, 3


class MergeTest(LayerTest):
    """Two quantized branches of different types: an HDense of the producer, and the producer itself."""

    kwargs = {"paq_conf": {"rnd_strategy": "standard_round"}}
    input_shape = (4,)
    expected_weights, expected_trainable_weights, expected_non_trainable_weights = 4, 1, 3

    def connect(self, layer, inp):
        h = HQuantize(paq_conf={"init_bw": 4}, name="producer")(inp)
        return layer([HDense(4, name="branch")(h), h])


class TestHAdd(MergeTest):
    layer_cls = HAdd


class TestHSubtract(MergeTest):
    layer_cls = HSubtract
    kwargs = {}  # rnd_strategy="auto": floors


class TestHMultiply(MergeTest):
    layer_cls = HMultiply
    kwargs = {"beta": 1e-5}


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
    layer_cls = HBatchNormalization
    kwargs = {"momentum": 0.9, "beta": 1e-5}
    input_shape = (3, 4)
    # bn_gamma, bn_beta, kq widths, paq widths; moving mean and variance, paq min, max, beta
    expected_weights, expected_trainable_weights, expected_non_trainable_weights = 9, 4, 5


# ---------------------------------------------------------------------------------------------- P-layers


class PLayerTest(LayerTest):
    expected_weights = 0


class TestPFlatten(PLayerTest):
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


@pytest.mark.once
def test_every_layer_class_has_an_entry():
    """Each class of ``hgq.layers`` (but the abstract ``HLayer``) and each proxy layer (the layer classes of
    ``hgq.proxy``) has a test class here or in ``test_layers_attention.py``."""
    import hgq.proxy
    import test_layers_attention

    entries = [*globals().values(), *vars(test_layers_attention).values()]
    tested = {entry.layer_cls for entry in entries
              if isinstance(entry, type) and issubclass(entry, LayerChecks) and entry.layer_cls is not None}
    wanted = ({getattr(hgq.layers, name) for name in hgq.layers.__all__} - {HLayer}
              | {cls for cls in map(vars(hgq.proxy).get, hgq.proxy.__all__)
                 if isinstance(cls, type) and issubclass(cls, keras.layers.Layer)})
    assert sorted(cls.__name__ for cls in wanted - tested) == []
