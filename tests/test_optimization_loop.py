"""The optimization loop (``hgq.optimization``) end to end on digits: unstructured, structured (physically
smaller), DSP-aware (Resource strategy) and refusals."""

import keras
import numpy as np
import pytest

from hgq.optimization import optimize_keras_model_for_hls4ml
from hgq.optimization.attributes import get_attributes_from_keras_model
from hgq.optimization.keras import optimize_model
from hgq.optimization.keras.utils import get_model_sparsity
from hgq.optimization.objectives import ParameterEstimator
from hgq.optimization.objectives.gpu_objectives import GPUFLOPEstimator
from hgq.optimization.objectives.vivado_objectives import VivadoDSPEstimator
from hgq.optimization.scheduler import PolynomialScheduler

# whole pruning runs: the masks, objectives and layers they rely on are tested on every backend elsewhere
pytestmark = pytest.mark.once

LOSS = "sparse_categorical_crossentropy"


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(x))
    x, y = (x[order] / 16).astype("float32"), y[order]
    return x[:1200], y[:1200], x[1200:1500], y[1200:1500], x[1500:], y[1500:]


def trained(model, digits, epochs=30):
    keras.utils.set_random_seed(0)
    xt, yt = digits[0].reshape((-1, *model.input_shape[1:])), digits[1]
    model.compile(keras.optimizers.Adam(3e-3), LOSS, metrics=["accuracy"])
    model.fit(xt, yt, epochs=epochs, batch_size=64, verbose=0)
    return model


def mlp():
    return keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, activation="relu"),
                             keras.layers.Dense(32, activation="relu"), keras.layers.Dense(10, activation="softmax")])


@pytest.fixture(scope="module")
def trained_mlp(digits):
    """``mlp()`` trained on the digits, shared by the tests that prune it (the loop leaves its input model as it is,
    which ``test_unstructured_mlp`` checks)."""
    return trained(mlp(), digits)


def run(model, digits, objective, attributes=None, hls_config=None, **kwargs):
    shape = (-1, *model.input_shape[1:])
    xt, yt, xv, yv = digits[0].reshape(shape), digits[1], digits[2].reshape(shape), digits[3]
    args = (objective, PolynomialScheduler(3, final_sparsity=0.5), xt, yt, xv, yv, 64, 4,
            keras.optimizers.Adam(3e-3), LOSS, "accuracy", True, 0.975)
    kwargs.setdefault("tuner", None)
    if hls_config is not None:
        return optimize_keras_model_for_hls4ml(model, hls_config, *args, **kwargs)
    return optimize_model(model, attributes or get_attributes_from_keras_model(model), *args, **kwargs)


def accuracy(model, digits):
    return model.evaluate(digits[4].reshape((-1, *model.input_shape[1:])), digits[5], verbose=0)[1]


def test_unstructured_mlp(digits, trained_mlp, capsys):
    base = trained_mlp
    weights_before = [w.copy() for w in base.get_weights()]
    pruned = run(base, digits, ParameterEstimator, verbose=True)
    kernels = [layer.kernel.numpy() for layer in pruned.layers]
    zeros = sum((k == 0).sum() for k in kernels) / sum(k.size for k in kernels)
    assert zeros >= 0.45
    assert get_model_sparsity(pruned)[0] == pytest.approx(zeros)
    assert accuracy(pruned, digits) >= 0.95 * accuracy(base, digits)
    assert all(np.array_equal(a, b) for a, b in zip(weights_before, base.get_weights())), "input model changed"
    history = pruned.optimization_history
    assert len(history) >= 2 and history[-1].accepted and history[-1].target == pytest.approx(0.5)
    assert capsys.readouterr().out.count("target") == len(history)  # one progress line per step
    assert all(layer.kernel.regularizer is None and layer.kernel.constraint is None for layer in pruned.layers)


def test_structured_cnn_is_smaller(digits):
    base = trained(keras.Sequential([
        keras.Input((8, 8, 1)), keras.layers.Conv2D(16, 3, activation="relu"), keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(10, activation="softmax"),
    ]), digits, epochs=20)
    small = run(base, digits, GPUFLOPEstimator)
    assert small.count_params() <= 0.8 * base.count_params()
    conv, dense, out = (layer for layer in small.layers if hasattr(layer, "kernel"))
    assert conv.filters < 16 and dense.units < 32
    assert out.units == 10 and small.output_shape == base.output_shape
    assert accuracy(small, digits) >= 0.95 * accuracy(base, digits)


def multipliers(model, reuse_factor):
    """Multipliers of the Resource strategy: blocks of ``reuse_factor`` consecutive weights of the transposed
    kernel that are not all zero."""
    return sum(int(np.any(np.moveaxis(layer.kernel.numpy(), -1, 0).reshape(-1, reuse_factor) != 0, axis=1).sum())
               for layer in model.layers if hasattr(layer, "kernel"))


def test_dsp_resource_strategy(digits, trained_mlp):
    from hls4ml.utils import config_from_keras_model

    base = trained_mlp
    config = config_from_keras_model(base, granularity="name", default_reuse_factor=4, backend="Vitis")
    config["IOType"] = "io_parallel"
    config["Model"]["Strategy"] = "Resource"
    pruned = run(base, digits, VivadoDSPEstimator, hls_config=config)
    assert multipliers(pruned, 4) <= 0.6 * multipliers(base, 4)
    assert accuracy(pruned, digits) >= 0.95 * accuracy(base, digits)


def test_refusals(digits):
    model = mlp()
    attrs = get_attributes_from_keras_model(model)
    for rtol in (0, 1.5, -0.5):
        with pytest.raises(ValueError, match="rtol must be in"):
            optimize_model(
                model, attrs, ParameterEstimator, PolynomialScheduler(2), digits[0], digits[1], digits[2],
                digits[3], 64, 3, "adam", LOSS, "accuracy", True, rtol, tuner=None)
    with pytest.raises(ValueError, match="unknown ranking_metric"):
        run(model, digits, ParameterEstimator, attrs, ranking_metric="gradients")
    with pytest.raises(ValueError, match="epochs"):
        optimize_model(model, attrs, ParameterEstimator, PolynomialScheduler(2), *digits[:4], 64, 1, "adam", LOSS,
                       "accuracy", True, 0.9, tuner=None)
    lstm = keras.Sequential([keras.Input((8, 8)), keras.layers.LSTM(4, name="lstm"), keras.layers.Dense(10)])
    with pytest.raises(ValueError, match=r"optimize_model: layer 'lstm' of type LSTM is not supported"):
        run(lstm, digits, ParameterEstimator)
    with pytest.raises(TypeError, match="objective must be a subclass of .*ObjectiveEstimator"):
        run(model, digits, object, attrs)
    # a missing keras-tuner or tensorboard, subclassed models, nested models: tests/test_optimization_models.py
