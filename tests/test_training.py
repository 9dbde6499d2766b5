"""The surrogate gradient and training with the BOPs loss."""

import keras
import numpy as np
import pytest
from keras import ops

import hgq
from hgq.layers import HDense, HQuantize

from conftest import gradients, mlp, regression_data


def test_surrogate_gradient():
    layer = HQuantize(paq_conf={"init_bw": 2, "skip_dims": None, "rnd_strategy": "standard_round"})
    x = np.random.default_rng(0).normal(size=(1, 32)).astype("float32")
    layer.build(x.shape)
    trainable = [ops.convert_to_numpy(v) for v in layer.trainable_variables]
    non_trainable = [ops.convert_to_numpy(v) for v in layer.non_trainable_variables]
    assert len(trainable) == 1  # the fractional bits

    def total(fbits, x):
        y, _ = layer.stateless_call([fbits], non_trainable, x, training=True)
        return ops.sum(y)

    grad_f, grad_x = gradients(total, trainable[0], x)
    y = ops.convert_to_numpy(layer(x, training=True))
    assert np.allclose(grad_f, -np.log(2) * (y - x), rtol=1e-6)
    assert np.array_equal(grad_x, np.ones_like(grad_x))  # straight-through


def test_fit_moves_bit_widths_and_adds_the_bops_loss():
    x, y = regression_data(1024)
    model = mlp(beta=1e-4)
    before = [ops.convert_to_numpy(q.fbits).copy() for q in hgq.calibration.all_quantizers(model)]
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    model.fit(x, y, epochs=2, batch_size=128, verbose=0)
    after = [ops.convert_to_numpy(q.fbits) for q in hgq.calibration.all_quantizers(model)]
    assert any(not np.array_equal(a, b) for a, b in zip(before, after))
    model(x[:8], training=True)
    assert len(model.losses) > 0 and float(ops.convert_to_numpy(sum(model.losses))) > 0


def bops_after_training(beta, seed=0):
    x, y = regression_data(2048, seed=seed)
    model = mlp(beta=beta, seed=seed)
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    model.fit(x, y, epochs=4, batch_size=128, verbose=0)
    return hgq.trace_minmax(model, x)


def test_larger_beta_gives_fewer_bops():
    assert bops_after_training(3e-4) < 0.8 * bops_after_training(0.0)


@pytest.mark.parametrize("optimizer", ["sgd", "rmsprop", "adamw", "adam"])
def test_any_optimizer_trains(optimizer):
    x, y = regression_data(512)
    model = mlp(beta=1e-5)
    model.compile(optimizer, "mse")
    history = model.fit(x, y, epochs=2, batch_size=64, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))


def test_dense_needs_a_quantized_input():
    inp = keras.Input((4,))
    model = keras.Model(inp, HDense(2, beta=1e-3, name="d")(inp))
    model.compile("adam", "mse")
    with pytest.raises(ValueError, match=r"HDense 'd' receives an unquantized input from InputLayer .*HQuantize"):
        model.fit(np.zeros((8, 4)), np.zeros((8, 2)), verbose=0)


def test_sequential_models_train_and_count_bops():
    model = keras.Sequential([keras.Input((16,)), HQuantize(), HDense(8, activation="relu", beta=1e-5), HDense(5)])
    x, y = regression_data(256)
    model.compile("adam", "mse")
    model.fit(x, y, epochs=1, verbose=0)
    assert hgq.trace_minmax(model, x) > 0
