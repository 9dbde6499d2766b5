"""Callbacks in real model.fit runs, beta helpers, and the bit-width summary."""

import os
import re

import keras
import numpy as np
import pytest

import hgq
import hgq.layers
from hgq.calibration import all_quantizers
from hgq.outputs import RECORD

from conftest import mlp, regression_data


def compiled_mlp(lr=3e-3, beta=1e-5):
    model = mlp(beta=beta)
    model.compile(keras.optimizers.Adam(lr), "mse")
    return model


class RecordsAtEpochBegin(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calibrated = []

    def on_epoch_begin(self, epoch, logs=None):
        self.calibrated.append(any(q.is_calibrated() for q in all_quantizers(self.model) if q.records_minmax))


def test_reset_minmax_forgets_the_records_every_epoch():
    x, y = regression_data(512)
    model = compiled_mlp()
    probe = RecordsAtEpochBegin()
    model.fit(x, y, epochs=3, verbose=0, callbacks=[hgq.ResetMinMax(), probe])
    assert probe.calibrated == [False, False, False]
    assert all(q.is_calibrated() for q in all_quantizers(model))  # the last epoch's ranges stay for export
    without = RecordsAtEpochBegin()
    compiled_mlp().fit(x, y, epochs=2, verbose=0, callbacks=[without])
    assert without.calibrated == [False, True]


def test_free_bops_logs_the_bops_of_the_recorded_ranges():
    x, y = regression_data(512)
    model = compiled_mlp()
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[hgq.FreeBOPs()])
    assert len(history.history["bops"]) == 2
    assert history.history["bops"][-1] == hgq.total_bops(model) > 0


def test_calibrated_bops_logs_exact_bops():
    x, y = regression_data(512)
    model = compiled_mlp()
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[hgq.CalibratedBOPs(x[:256], batch_size=64)])
    assert history.history["bops"][-1] == hgq.trace_minmax(model, x[:256])


def test_free_bops_over_estimates_calibrated_bops():
    x, y = regression_data(512)
    model = compiled_mlp(lr=1e-2)
    free = model.fit(x, y, epochs=2, verbose=0, callbacks=[hgq.FreeBOPs()]).history["bops"][-1]
    assert free >= hgq.trace_minmax(model, x)


def test_piecewise_beta():
    schedule = hgq.PiecewiseBeta([(0, 0.0), (2, 0.0), (6, 4e-5)])
    assert [schedule(e) for e in range(8)] == pytest.approx([0, 0, 0, 1e-5, 2e-5, 3e-5, 4e-5, 4e-5])
    with pytest.raises(ValueError, match="epochs must be distinct"):
        hgq.PiecewiseBeta([(1, 0.0), (1, 1.0)])


def test_beta_scheduler_sets_and_logs_beta():
    x, y = regression_data(256)
    model = compiled_mlp()
    schedule = hgq.PiecewiseBeta([(0, 0.0), (1, 0.0), (3, 2e-4)])
    history = model.fit(x, y, epochs=4, verbose=0, callbacks=[hgq.BetaScheduler(schedule)])
    assert history.history["beta"] == pytest.approx([0.0, 0.0, 1e-4, 2e-4])
    assert list(hgq.get_beta(model).values()) == pytest.approx([2e-4] * 5)


def test_beta_scheduler_rejects_negative_beta_and_non_callables():
    x, y = regression_data(64)
    with pytest.raises(ValueError, match=r"returned beta=-1.0 for epoch 0; beta must be a non-negative"):
        compiled_mlp().fit(x, y, epochs=1, verbose=0, callbacks=[hgq.BetaScheduler(lambda epoch: -1.0)])
    with pytest.raises(ValueError, match="schedule must be callable"):
        hgq.BetaScheduler(1e-5)


def test_set_beta_changes_the_loss_without_recompiling():
    x, y = regression_data(256)
    model = mlp(beta=0.0)
    model.compile(keras.optimizers.SGD(0.0), "mse")  # learning rate 0: the weights stay put
    model.fit(x, y, epochs=1, batch_size=256, verbose=0)
    base = model.train_on_batch(x, y)
    hgq.set_beta(model, 1.0)
    with_bops = model.train_on_batch(x, y)
    assert with_bops - base == pytest.approx(hgq.total_bops(model), rel=1e-4)
    hgq.set_beta(model, {"dense1": 0.5})
    assert hgq.get_beta(model)["dense1"] == 0.5 and hgq.get_beta(model)["out"] == 1.0


@pytest.mark.parametrize("beta, message", [({"nope": 1.0}, "no H-layer named 'nope'"),
                                           (-1e-3, "beta for layer 'inp_q' must be a non-negative number")])
def test_set_beta_rejects_bad_arguments(beta, message):
    with pytest.raises(ValueError, match=message):
        hgq.set_beta(mlp(), beta)


def parse_front(path):
    points = []
    for name in os.listdir(path):
        if name == RECORD:
            continue
        values = dict(re.findall(r"(\w+)=([-+.\w]+?)(?=-[a-z]|\.keras$)", name))
        points.append((float(values["val_loss"]), float(values["bops"]), os.path.join(path, name)))
    return points


@pytest.mark.parametrize("in_memory", [False, True], ids=["saved-as-found", "in-memory"])
def test_pareto_front_keeps_exactly_the_non_dominated_models(tmp_path, in_memory):
    """Each saved model is the one of its epoch (its BOPs are the ones logged then); ``in_memory`` writes the files
    when training ends, and leaves the model with its last epoch's weights."""
    x, y = regression_data(1024)
    model = mlp(beta=3e-5)
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    front = hgq.ParetoFront(tmp_path, metrics=("val_loss", "bops"), sides=(min, min), in_memory=in_memory)
    files, last = [], {}
    watch = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: (
        files.append(len(list(tmp_path.glob("*.keras")))), last.update(weights=model.get_weights())))
    history = model.fit(x, y, epochs=6, batch_size=128, validation_split=0.25, verbose=0,
                        callbacks=[hgq.FreeBOPs(), front, watch])
    saved = parse_front(tmp_path)
    assert saved
    assert (max(files) == 0) is in_memory
    for a in saved:  # no saved model is dominated by another
        assert not any(b[0] <= a[0] and b[1] <= a[1] and (b[0], b[1]) != (a[0], a[1]) for b in saved)
    for v, b in zip(history.history["val_loss"], history.history["bops"]):  # every epoch is covered
        assert any(s[0] <= float(f"{v:.6g}") and s[1] <= b for s in saved)
    for point in front.points:
        assert hgq.total_bops(keras.models.load_model(point["path"])) == point["bops"]
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), last["weights"]))
    loaded = keras.models.load_model(saved[0][2])
    assert loaded.predict(x[:4], verbose=0).shape == (4, 5)


@pytest.mark.parametrize("in_memory", [False, True], ids=["saved-as-found", "in-memory"])
def test_smoothed_pareto_front_chooses_on_the_mean_around_each_epoch(tmp_path, in_memory):
    """``smoothing=2``: each design is chosen on the mean of a scripted, noisy score over the five epochs around its
    own (fewer at the ends), and is still the model of its own epoch (its BOPs are the ones logged then)."""
    scores = [0.1, 0.9, 0.2, 0.8, 0.3, 0.7, 0.4, 0.6]
    x, y = regression_data(1024)
    model = mlp(beta=3e-5)
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    front = hgq.ParetoFront(tmp_path, metrics=("score", "bops"), sides=(max, min), in_memory=in_memory, smoothing=2)
    script = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: logs.update(score=scores[epoch]))
    last = {}
    watch = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: last.update(weights=model.get_weights()))
    history = model.fit(x, y, epochs=len(scores), batch_size=128, verbose=0,
                        callbacks=[hgq.FreeBOPs(), script, front, watch])
    smoothed = [np.mean(scores[max(0, e - 2):e + 3]) for e in range(len(scores))]
    designs = [(s, b) for s, b in zip(smoothed, history.history["bops"])]
    points = front.points
    assert points and len(list(tmp_path.glob("*.keras"))) == len(points)
    for point in points:
        assert point["score"] == pytest.approx(smoothed[point["epoch"]], abs=1e-12)
        assert point["epoch_score"] == scores[point["epoch"]]
        assert point["bops"] == history.history["bops"][point["epoch"]]
        assert hgq.total_bops(keras.models.load_model(point["path"])) == point["bops"]
    chosen = [(p["score"], p["bops"]) for p in points]
    for a in chosen:  # none dominated, every epoch covered
        assert not any(b[0] >= a[0] and b[1] <= a[1] and b != a for b in chosen)
    for s, b in designs:
        assert any(c[0] >= s - 1e-12 and c[1] <= b for c in chosen)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), last["weights"]))


def test_pareto_front_names_an_unknown_metric(tmp_path):
    x, y = regression_data(64)
    with pytest.raises(ValueError, match=r"metric 'val_accuracy' is not in the logs; logged metrics: \['loss'\]"):
        compiled_mlp().fit(x, y, epochs=1, verbose=0, callbacks=[hgq.ParetoFront(tmp_path)])


@pytest.mark.parametrize("kwargs, message", [
    ({"metrics": ("val_loss", "bops"), "sides": (min,)}, "one side per metric"),
    ({"metrics": ("val_loss",), "sides": ("smaller",)}, "each side must be max or min"),
    ({"smoothing": -1}, "smoothing must be a number of epochs >= 0, got -1"),
    ({"smoothing": 1.5}, "smoothing must be a number of epochs >= 0, got 1.5"),
])
def test_pareto_front_rejects_bad_arguments(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        hgq.ParetoFront(tmp_path, **kwargs)


def test_bit_width_summary_hand_count():
    inp = keras.Input((2,))
    dense = hgq.layers.HDense(2, use_bias=False, kq_conf={"init_bw": 2}, name="d")
    model = keras.Model(inp, dense(hgq.layers.HQuantize(paq_conf={"init_bw": 2}, name="q")(inp)))
    dense.kernel.assign(np.array([[0.5, -0.75], [0.0, 3.0]], "float32"))
    hgq.trace_minmax(model, np.array([[0.0, -2.0], [1.5, 0.75]], "float32"))
    summary = hgq.bit_width_summary(model)
    assert summary["q"]["output"] == {"mean": 3.5, "min": 3.0, "max": 4.0, "pruned": 0.0, "size": 2}
    assert summary["d"]["kernel"] == {"mean": 2.25, "min": 0.0, "max": 4.0, "pruned": 0.25, "size": 4}


def test_calibrated_bops_names_calibration_data_of_the_wrong_shape():
    x, y = regression_data(64)
    with pytest.raises(ValueError, match=r"CalibratedBOPs: .*data of shape \(8, 3\) does not match input"):
        compiled_mlp().fit(x, y, epochs=1, verbose=0, callbacks=[hgq.CalibratedBOPs(np.zeros((8, 3), "float32"))])
    bad = x.copy()
    bad[1, 2] = np.inf
    model = compiled_mlp()
    before = [np.array(w) for w in model.get_weights()]
    with pytest.raises(ValueError, match=r"CalibratedBOPs: the data for input '.*' holds 1 non-finite value\(s\) "
                                         r"\(0 NaN, 1 infinite\)"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[hgq.CalibratedBOPs(bad)])
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights())), "refused before training"
    with pytest.raises(ValueError, match=r"CalibratedBOPs: cover_factor must be positive, got 0"):
        hgq.CalibratedBOPs(x, cover_factor=0)
    with pytest.raises(ValueError, match=r"CalibratedBOPs: batch_size must be a positive integer, got 0"):
        hgq.CalibratedBOPs(x, batch_size=0)
