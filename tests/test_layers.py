"""Every layer through the common layer checks of ``layer_base.LayerTest``: config, .keras file, one training
step, proxy equality and hls4ml bit-exactness. Shapes are small: one hls4ml project per layer."""

import numpy as np

from hgq.layers import (HActivation, HAdd, HConv1D, HConv1DBatchNorm, HConv2D, HConv2DBatchNorm, HDense,
                        HDenseBatchNorm, HQuantize, PAveragePooling1D, PAveragePooling2D, PConcatenate, PFlatten,
                        PMaxPooling1D, PMaxPooling2D, PReshape)

from layer_base import LayerTest


class TestHQuantize(LayerTest):
    layer_cls = HQuantize
    kwargs = {"paq_conf": {"init_bw": 4, "rnd_strategy": "standard_round"}}

    def connect(self, layer, inp):
        return layer(inp)


class TestHDense(LayerTest):
    layer_cls = HDense
    kwargs = {"units": 4, "activation": "relu", "beta": 1e-5}


class TestHConv1D(LayerTest):
    layer_cls = HConv1D
    kwargs = {"filters": 3, "kernel_size": 3, "padding": "same", "parallel_factor": 2, "beta": 1e-5}
    input_shape = (8, 2)


class TestHConv2D(LayerTest):
    layer_cls = HConv2D
    kwargs = {"filters": 3, "kernel_size": 3, "strides": 2, "activation": "relu", "beta": 1e-5}
    input_shape = (7, 7, 2)


class TestHActivation(LayerTest):
    layer_cls = HActivation
    kwargs = {"activation": "tanh", "paq_conf": {"init_bw": 5}}  # a lookup table in the proxy


class TestHAdd(LayerTest):
    layer_cls = HAdd
    kwargs = {"paq_conf": {"rnd_strategy": "standard_round"}}
    input_shape = (4,)

    def connect(self, layer, inp):
        h = HQuantize(paq_conf={"init_bw": 4}, name="producer")(inp)
        return layer([HDense(4, name="branch")(h), h])


class BatchNormTest(LayerTest):
    """Random moving statistics, so the fused kernel and bias differ from the raw ones."""

    def make_layer(self):
        layer = super().make_layer()
        layer.build((None, *self.input_shape))
        rng = np.random.default_rng(self.seed + 3)
        c = layer.kernel.shape[-1]
        layer.moving_mean.assign(rng.normal(size=c).astype("float32"))
        layer.moving_variance.assign(rng.uniform(0.2, 3.0, c).astype("float32"))
        layer.bn_gamma.assign(rng.uniform(0.5, 2.0, c).astype("float32"))
        return layer


class TestHDenseBatchNorm(BatchNormTest):
    layer_cls = HDenseBatchNorm
    kwargs = {"units": 4, "activation": "relu", "momentum": 0.9, "beta": 1e-5}


class TestHConv1DBatchNorm(BatchNormTest):
    layer_cls = HConv1DBatchNorm
    kwargs = {"filters": 3, "kernel_size": 3, "strides": 2, "beta": 1e-5}
    input_shape = (8, 2)


class TestHConv2DBatchNorm(BatchNormTest):
    layer_cls = HConv2DBatchNorm
    kwargs = {"filters": 3, "kernel_size": 2, "activation": "relu", "beta": 1e-5}
    input_shape = (5, 5, 2)


# ---------------------------------------------------------------------------------------------- P-layers


class TestPFlatten(LayerTest):
    layer_cls = PFlatten
    input_shape = (3, 2, 2)


class TestPReshape(LayerTest):
    layer_cls = PReshape
    kwargs = {"target_shape": (3, 4)}
    input_shape = (4, 3)


class TestPConcatenate(LayerTest):
    layer_cls = PConcatenate
    input_shape = (4,)

    def connect(self, layer, inp):
        h = HQuantize(paq_conf={"init_bw": 4}, name="producer")(inp)
        return layer([h, HDense(3, name="branch")(h)])


def pooling_test(layer_cls, input_shape, **kwargs):
    return type(f"Test{layer_cls.__name__}", (LayerTest,),
                {"layer_cls": layer_cls, "kwargs": kwargs, "input_shape": input_shape})


TestPMaxPooling1D = pooling_test(PMaxPooling1D, (7, 2), pool_size=2, strides=1)
TestPMaxPooling2D = pooling_test(PMaxPooling2D, (4, 4, 2), pool_size=2)
TestPAveragePooling1D = pooling_test(PAveragePooling1D, (8, 2), pool_size=4)
TestPAveragePooling2D = pooling_test(PAveragePooling2D, (5, 4, 2), pool_size=2, padding="same")
