"""Structured reduction: all-zero neurons and filters are removed and every downstream layer resized."""

import keras
import numpy as np
import pytest

from hgq.layers import HDense, HDenseBatchNorm, HQuantize
from hgq.optimization.keras.reduction import reduce_model, reducible_layers


def zero_channels(layer, channels):
    weights = layer.get_weights()
    weights[0][..., channels] = 0
    if layer.use_bias:
        weights[1][channels] = 0
    layer.set_weights(weights)


def test_conv_pool_flatten_dense():
    keras.utils.set_random_seed(1)
    inp = keras.Input((8, 8, 1))
    h = keras.layers.Conv2D(6, 3, activation="relu", name="conv")(inp)
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.Flatten()(keras.layers.MaxPooling2D(2)(h))
    h = keras.layers.Dense(8, activation="relu", name="hidden")(h)
    model = keras.Model(inp, keras.layers.Dense(4, name="out")(h))
    assert reducible_layers(model) == {"conv", "hidden"}
    zero_channels(model.get_layer("conv"), [1, 4])
    zero_channels(model.get_layer("hidden"), [2, 5, 7])
    zero_channels(model.get_layer("out"), [0])  # an output is never removed
    small = reduce_model(model)
    assert small.get_layer("conv").filters == 4 and small.get_layer("hidden").units == 5
    assert small.get_layer("out").units == 4 and small.count_params() < model.count_params()
    x = np.random.default_rng(0).uniform(size=(64, 8, 8, 1)).astype("float32")
    np.testing.assert_allclose(small.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_batchnorm_fused_h_layers():
    keras.utils.set_random_seed(2)
    model = keras.Sequential([keras.Input((16,)), HQuantize(), HDenseBatchNorm(8, activation="relu", name="bn"),
                              HDense(3, name="out")])
    zero_channels(model.get_layer("bn"), [0, 3])
    small = reduce_model(model)
    assert isinstance(small, keras.Sequential) and small.get_layer("bn").units == 6
    assert small.get_layer("bn").bn_gamma.shape == (6,) and small.get_layer("out").kernel.shape == (6, 3)
    x = np.random.default_rng(0).uniform(-1, 1, size=(64, 16)).astype("float32")
    np.testing.assert_array_equal(small.predict(x, verbose=0), model.predict(x, verbose=0))


def test_refuses_subclassed_models():
    class Custom(keras.Model):
        def call(self, x):
            return x

    with pytest.raises(ValueError, match="only Sequential and functional"):
        reduce_model(Custom())
