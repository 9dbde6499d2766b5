"""fit_pareto: one run over a beta ramp keeps the designs no other beats in the proxy's metric and exact BOPs; each
saved design is calibrated and bit-exact through hls4ml; LogRampBeta; ParetoFront.points; errors by name."""

import csv
import os

import keras
import numpy as np
import pytest

import hgq
from hgq.outputs import RECORD
from hgq.proxy.hls import proxy_predict

from bitexact import SideBySide, check_bit_exact


def classification(n=1200, n_in=12, classes=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, n_in)).astype("float32")
    return x, np.argmax(x @ rng.normal(size=(n_in, classes)), axis=1)


def float_mlp(n_in=12, classes=4):
    x = keras.Input((n_in,), name="features")
    y = keras.layers.Dense(16, activation="relu", name="hidden")(x)
    return keras.Model(x, keras.layers.Dense(classes, name="logits")(y), name="small_mlp")


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    """A short fit_pareto run from a float model, its data and the result."""
    keras.utils.set_random_seed(0)
    x, y = classification()
    result = hgq.fit_pareto(float_mlp(), x[:1000], y[:1000], (x[1000:], y[1000:]),
                            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                            path=str(tmp_path_factory.mktemp("pareto") / "front"), epochs=8, beta=(1e-5, 3e-2),
                            learning_rate=1e-2, smoothing=1, verbose=False, quantize={"paq_conf": {"init_bw": 4}},
                            test_data=(x[:200], y[:200]))  # scored, not chosen on: training samples will do
    return x, y, result


def test_the_front_holds_non_dominated_calibrated_designs_with_their_proxy_metric(short_run):
    x, y, result = short_run
    points = result.points
    assert len(points) >= 2
    assert [p["accuracy"] for p in points] == sorted((p["accuracy"] for p in points), reverse=True)
    for a in points:
        assert not any(b["accuracy"] >= a["accuracy"] and b["bops"] <= a["bops"] and b is not a for b in points)
    betas = {p["epoch"]: p["beta"] for p in points}
    assert all(1e-5 <= beta <= 3e-2 for beta in betas.values())
    for p in points:
        model = keras.models.load_model(p["path"])
        assert hgq.total_bops(model) == pytest.approx(p["bops"])  # saved calibrated: exportable as it is
        proxy = hgq.to_proxy_model(model)
        # chosen on the validation accuracy averaged over the epoch and its neighbours; the design's own is its proxy's
        assert np.mean(np.argmax(proxy_predict(proxy, x[1000:]), axis=1) == y[1000:]) == \
            pytest.approx(p["epoch_accuracy"])
        assert np.mean(np.argmax(proxy_predict(proxy, x[:200]), axis=1) == y[:200]) == pytest.approx(p["test_accuracy"])
        assert hgq.trace_minmax(model, x[:1000]) == pytest.approx(p["bops"])
    assert sorted(os.listdir(result.path)) == sorted(
        [os.path.basename(p["path"]) for p in points] + ["front.csv", "front.png", RECORD])
    with open(os.path.join(result.path, "front.csv")) as file:
        rows = list(csv.DictReader(file))
    assert [float(r["bops"]) for r in rows] == [p["bops"] for p in points]
    assert [float(r["test_accuracy"]) for r in rows] == [p["test_accuracy"] for p in points]
    assert list(rows[0]) == ["epoch", "beta", "bops", "accuracy", "epoch_accuracy", "test_accuracy", "path"]
    table = result.table().splitlines()
    assert len(table) == len(points) + 1 and table[0].split()[3:6] == ["accuracy", "epoch_accuracy", "test_accuracy"]
    assert result.test_metric == "test_accuracy"


@pytest.mark.hls4ml
def test_every_design_on_the_front_is_bit_exact_with_hls4ml(short_run, tmp_path):
    """The designs compiled side by side as one hls4ml project (``bitexact.SideBySide``), each checked alone."""
    x, _, result = short_run
    projects = SideBySide(tmp_path)

    def design(path):
        model = keras.models.load_model(path)
        return model, hgq.to_proxy_model(model), x

    for p in result.points:
        projects.add(p["path"], lambda path=p["path"]: design(path))
    for p in result.points:
        model, proxy, _, part = projects(p["path"])
        check_bit_exact(proxy, x, part, model=model, scales=(4.0,))


def test_log_ramp_beta():
    ramp = hgq.LogRampBeta(1e-6, 1e-4, 10, 30)
    assert [ramp(e) for e in (0, 10)] == [1e-6, 1e-6]
    assert ramp(20) == pytest.approx(1e-5)
    assert ramp(30) == pytest.approx(1e-4) and ramp(99) == pytest.approx(1e-4)
    with pytest.raises(ValueError, match=r"LogRampBeta: need 0 < start <= stop.*start=0"):
        hgq.LogRampBeta(0, 1e-4, 0, 10)
    with pytest.raises(ValueError, match=r"first_epoch=10, last_epoch=10"):
        hgq.LogRampBeta(1e-6, 1e-4, 10, 10)


def test_metric_by_name_and_lower_is_better(tmp_path):
    keras.utils.set_random_seed(1)
    x, y = classification(n=300)
    targets = keras.utils.to_categorical(y, 4)
    result = hgq.fit_pareto(float_mlp(), x[:200], targets[:200], (x[200:], targets[200:]), "mse",
                            path=str(tmp_path / "front"), metric="mean_squared_error", maximize=False, epochs=3,
                            verbose=False)
    values = [p["mean_squared_error"] for p in result.points]
    assert values == sorted(values) and all(v > 0 for v in values)


def test_refusals(tmp_path):
    x, y = classification(n=100)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    inp = keras.Input((12,))
    two_outputs = keras.Model(inp, [keras.layers.Dense(4)(inp), keras.layers.Dense(4)(inp)], name="two")
    with pytest.raises(ValueError, match=r"fit_pareto: model 'two' has 2 outputs"):
        hgq.fit_pareto(two_outputs, x, y, (x, y), loss, path=str(tmp_path / "a"))
    h = hgq.quantize_model(float_mlp())
    with pytest.raises(ValueError, match=r"quantize=\{'beta': 1e-05\} applies to a float model"):
        hgq.fit_pareto(h, x, y, (x, y), loss, path=str(tmp_path / "b"), quantize={"beta": 1e-5})
    with pytest.raises(ValueError, match=r"LogRampBeta"):
        hgq.fit_pareto(h, x, y, (x, y), loss, path=str(tmp_path / "c"), beta=(1e-3, 1e-5))
    with pytest.raises(ValueError, match=r"fit_pareto: test_data holds 100 inputs and 50 labels; they must be as many"):
        hgq.fit_pareto(h, x, y, (x, y), loss, path=str(tmp_path / "d"), test_data=(x, y[:50]))
    with pytest.raises(ValueError, match=r"fit_pareto: validation_data must be an \(x, y\) pair, got ndarray"):
        hgq.fit_pareto(h, x, y, x, loss, path=str(tmp_path / "e"))
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match=r"fit_pareto: smoothing must be a number of epochs >= 0, got -2"):
        hgq.fit_pareto(h, x, y, (x, y), loss, path=str(tmp_path / "f"), smoothing=-2)
    assert os.listdir(tmp_path / "f") == ["notes.txt"]  # refused before the folder is looked at
    bad = x.copy()
    bad[3, 5] = np.nan
    with pytest.raises(ValueError, match=r"fit_pareto: validation_data: the data for input '.*' holds 1 non-finite"):
        hgq.fit_pareto(h, x, y, (bad, y), loss, path=str(tmp_path / "f"))
    with pytest.raises(ValueError, match=r"fit_pareto: x: the data for input '.*' holds 1 non-finite"):
        hgq.fit_pareto(h, bad, y, (x, y), loss, path=str(tmp_path / "f"))
    with pytest.raises(ValueError, match=r"fit_pareto: calibration_data: data does not match input"):
        hgq.fit_pareto(h, x, y, (x, y), loss, path=str(tmp_path / "f"), calibration_data=x[:, :5])
    assert os.listdir(tmp_path / "f") == ["notes.txt"]  # refused before training, the folder untouched


@pytest.mark.once  # the command line; fit_pareto on both backends is covered above
def test_command_line_front_then_verify_a_design(tmp_path, capfd):
    """``hgq pareto`` then ``hgq verify`` of a design it kept, in this process (``test_cli_export.run``)."""
    from test_cli_export import no_chatter, run

    keras.utils.set_random_seed(2)
    x, y = classification(n=600)
    float_mlp().save(tmp_path / "float.keras")
    for name, array in (("x", x[:500]), ("y", y[:500]), ("xv", x[500:]), ("yv", y[500:])):
        np.save(tmp_path / f"{name}.npy", array)
    files = ["--data", tmp_path / "x.npy", "--labels", tmp_path / "y.npy", "--validation-data", tmp_path / "xv.npy"]
    done = run(capfd, "pareto", tmp_path / "float.keras", *files, "--validation-labels", tmp_path / "yv.npy",
               "-o", tmp_path / "front", "--epochs", 3, "--learning-rate", 0.01, "--smoothing", 0, "--test-data",
               tmp_path / "x.npy", "--test-labels", tmp_path / "y.npy")
    assert done.returncode == 0, done.stderr
    no_chatter(done)
    assert "epoch=2 (3/3)" in done.stderr and "front.png" in done.stdout
    assert done.stdout.splitlines()[0].split()[3:5] == ["accuracy", "test_accuracy"]  # no smoothing: no epoch_ column
    designs = sorted((tmp_path / "front").glob("*.keras"))
    assert designs and (tmp_path / "front" / "front.csv").is_file()
    assert all(design.name in done.stdout for design in designs)
    verified = run(capfd, "verify", designs[0], "--data", tmp_path / "x.npy")
    assert verified.returncode == 0 and "bit-exact" in verified.stdout, verified.stdout + verified.stderr
    wrong = run(capfd, "pareto", tmp_path / "float.keras", *files, "--validation-labels", tmp_path / "y.npy",
                "-o", tmp_path / "front2")
    assert wrong.returncode == 1
    assert wrong.stderr.strip().splitlines() == [
        "error: --validation-data and --validation-labels hold 100 and 500 samples; they must be as many"]
    with pytest.raises(SystemExit) as exit_info:
        run(capfd, "pareto", tmp_path / "float.keras", *files, "--validation-labels", tmp_path / "yv.npy", "-o",
            tmp_path / "front4", "--smoothing", -1)
    assert exit_info.value.code == 2
    assert "argument --smoothing: must be an integer >= 0, got -1" in capfd.readouterr().err
    alone = run(capfd, "pareto", tmp_path / "float.keras", *files, "--validation-labels", tmp_path / "yv.npy",
                "-o", tmp_path / "front3", "--test-data", tmp_path / "x.npy")
    assert alone.returncode == 1
    assert alone.stderr.strip().splitlines() == ["error: --test-data and --test-labels go together: give both or "
                                                 "neither"]


@pytest.mark.once  # a fresh process, on the TensorFlow backend
def test_command_line_front_without_matplotlib_notes_the_missing_plot(tmp_path):
    """The quick start installs no matplotlib (the profiling extra's): the front is written, the plot is not."""
    from test_backends import BLOCK, python

    x, y = classification(n=300)
    float_mlp().save(tmp_path / "float.keras")
    for name, array in (("x", x[:200]), ("y", y[:200]), ("xv", x[200:]), ("yv", y[200:])):
        np.save(tmp_path / f"{name}.npy", array)
    args = ["pareto", str(tmp_path / "float.keras"), "--data", str(tmp_path / "x.npy"), "--labels",
            str(tmp_path / "y.npy"), "--validation-data", str(tmp_path / "xv.npy"), "--validation-labels",
            str(tmp_path / "yv.npy"), "--epochs", "2", "-o", str(tmp_path / "front")]
    done = python(BLOCK.format("matplotlib") + f"import hgq_cli\nsys.exit(hgq_cli.main({args!r}))",
                  backend="tensorflow")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "front.png not drawn: matplotlib is not installed (pip install 'hgq-keras[profiling]')" in done.stderr
    assert (tmp_path / "front" / "front.csv").is_file() and not (tmp_path / "front" / "front.png").exists()
    assert "front.png" not in done.stdout


@pytest.mark.parametrize("metric", ["accuracy", "mse", "crossentropy"])
def test_metric_value_is_what_keras_computes_on_one_batch(metric):
    """``hgq.backend.metric_value`` (compiled on JAX) equals the metric's reset, update and result, call after call
    (no state carried over)."""
    from hgq.backend import metric_value
    from hgq.pareto import metric_object

    rng = np.random.default_rng(0)
    make = {"accuracy": lambda: metric_object("accuracy", np.zeros(1)), "mse": keras.metrics.MeanSquaredError,
            "crossentropy": lambda: keras.metrics.SparseCategoricalCrossentropy(from_logits=True)}[metric]
    compiled = make()
    for _ in range(2):
        y_pred = rng.normal(size=(50, 4))
        y_true = rng.integers(0, 4, size=50) if metric != "mse" else rng.normal(size=(50, 4))
        eager = make()
        eager.update_state(y_true, y_pred)
        assert metric_value(compiled, y_true, y_pred) == pytest.approx(float(eager.result()), abs=1e-7)
