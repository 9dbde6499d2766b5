"""H-models pruned by the optimization loop stay bit-exact with hls4ml, and pruned weights cost no BOPs."""

import keras
import numpy as np
import pytest

import hgq
from hgq.layers import HDense, HQuantize
from hgq.optimization.attributes import get_attributes_from_keras_model
from hgq.optimization.keras import optimize_model
from hgq.optimization.objectives import ParameterEstimator
from hgq.optimization.objectives.bops import BOPsEstimator
from hgq.optimization.scheduler import PolynomialScheduler

from bitexact import check_bit_exact, compile_hls4ml

LOSS = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


@pytest.fixture(scope="module")
def digits_and_model():
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(x))
    x, y = (x[order] / 16).astype("float32"), y[order]
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), HQuantize(), HDense(32, activation="relu", beta=1e-5),
                              HDense(10, beta=1e-5)])
    model.compile(keras.optimizers.Adam(3e-3), LOSS, metrics=["accuracy"])
    model.fit(x[:1200], y[:1200], epochs=20, batch_size=64, verbose=0)
    return x, y, model, hgq.trace_minmax(model, x[:1200])


@pytest.mark.parametrize("objective", [ParameterEstimator, BOPsEstimator])
def test_pruned_h_model_is_bit_exact(digits_and_model, objective, tmp_path):
    x, y, model, bops_before = digits_and_model
    pruned = optimize_model(model, get_attributes_from_keras_model(model), objective,
                            PolynomialScheduler(3, final_sparsity=0.5), x[:1200], y[:1200], x[1200:1500],
                            y[1200:1500], 64, 6, keras.optimizers.Adam(3e-3), LOSS, "accuracy", True, 0.9, tuner=None)
    bops_after = hgq.trace_minmax(pruned, x[:1200])
    last = [s for s in pruned.optimization_history if s.accepted][-1]
    assert last.target == pytest.approx(0.5)
    for layer in pruned.layers[1:]:
        kernel = layer.kernel.numpy()
        assert np.all(layer.weight_bits().numpy()[kernel == 0] == 0), "a pruned weight must have zero bits"
    if objective is ParameterEstimator:
        assert np.mean([(layer.kernel.numpy() == 0).mean() for layer in pruned.layers[1:]]) >= 0.4
    else:  # the knapsack kept half the BOPs; kept weights may widen while fine-tuning
        assert last.resources <= 0.5 + 1e-9
        assert bops_after <= 0.85 * bops_before
    assert bops_after < bops_before
    proxy = hgq.to_proxy_model(pruned)
    check_bit_exact(proxy, x[:1000], compile_hls4ml(proxy, tmp_path / "prj"), model=pruned, scales=(2.5, 4.0))
