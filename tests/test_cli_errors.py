"""``hgq export``/``verify``/``profile`` on bad input: one clear ``error:`` line naming the problem, exit code 1.

In-process and without hls4ml compiles; ``tests/test_cli_export.py`` runs the commands end to end.
"""

import numpy as np
import pytest

from conftest import mlp, trained_mlp
from hgq_cli import main

pytestmark = pytest.mark.once  # the command line; the library on JAX is covered by the other modules


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A trained H-model, a never-trained one, inputs (good, wrong shape, NaN/inf, empty) and a truncated file."""
    folder = tmp_path_factory.mktemp("cli_errors")
    model, x = trained_mlp(epochs=1)
    model.save(folder / "mlp.keras")
    mlp().save(folder / "fresh.keras")
    np.save(folder / "x.npy", x[:64])
    np.save(folder / "bad.npy", x[:4, :15])
    np.save(folder / "empty.npy", x[:0])
    nan = x[:8].copy()
    nan[1, 2], nan[3, 0], nan[5, 5] = np.nan, np.inf, -np.inf
    np.save(folder / "nan.npy", nan)
    (folder / "trunc.keras").write_bytes((folder / "mlp.keras").read_bytes()[:600])
    (folder / "a_file").write_text("")
    return folder


def error_of(capsys, args, code=1):
    assert main(args) == code
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize("command", ["export", "verify", "profile"])
def test_truncated_model_file_is_not_called_missing(files, capsys, command):
    extra = {"export": ["-o", str(files / "o")], "verify": ["--data", str(files / "x.npy")], "profile": []}
    line = error_of(capsys, [command, str(files / "trunc.keras"), *extra[command]])
    assert "not found" not in line
    assert line == f"error: cannot read the model file {files / 'trunc.keras'}: not a valid .keras archive " \
                   "(truncated or corrupt?)"


def test_missing_model_file(files, capsys):
    path = files / "nope.keras"
    assert error_of(capsys, ["export", str(path), "-o", str(files / "o")]) == f"error: model file not found: {path}"


def test_uncalibrated_h_model_says_to_pass_data(files, capsys):
    line = error_of(capsys, ["export", str(files / "fresh.keras"), "-o", str(files / "o")])
    assert "never calibrated or trained" in line and "--data X.npy" in line


@pytest.mark.parametrize("name, message", [
    ("bad.npy", "expected shape (None, 16), got (4, 15)"),
    ("empty.npy", "is empty (shape (0, 16))"),
    ("nan.npy", "holds 3 non-finite value(s) (1 NaN, 2 infinite) out of 128"),
])
def test_bad_data(files, capsys, name, message):
    line = error_of(capsys, ["export", str(files / "mlp.keras"), "-o", str(files / "o"), "--data", str(files / name)])
    assert line.startswith(f"error: data file {files / name}: ") and message in line


def test_output_directory_that_is_a_file(files, capsys):
    line = error_of(capsys, ["export", str(files / "mlp.keras"), "-o", str(files / "a_file")])
    assert line == f"error: hgq export: the output folder {files / 'a_file'} is a file; choose a folder"


def test_reuse_factor_must_fit_every_layer(files, capsys):
    args = ["export", str(files / "mlp.keras"), "-o", str(files / "o"), "--strategy", "resource"]
    line = error_of(capsys, args + ["--reuse-factor", "7"])
    assert "reuse factor 7 does not fit layer 'dense1' (16x24 multiplication); hls4ml accepts 1, 2, 4, 8" in line
    line = error_of(capsys, args[:-2] + ["--reuse-factor", "2"])
    assert "needs strategy 'resource'" in line


def test_layer_that_cannot_be_exported(files, capsys, tmp_path):
    import keras

    from hgq.layers import HDense, HQuantize

    inp = keras.Input((16,))
    out = keras.layers.LayerNormalization(name="norm")(HDense(4)(HQuantize()(inp)))
    model = keras.Model(inp, out)
    model.save(tmp_path / "norm.keras")
    line = error_of(capsys, ["export", str(tmp_path / "norm.keras"), "-o", str(tmp_path / "o"),
                             "--data", str(files / "x.npy")])
    assert "'norm'" in line and "LayerNormalization" in line


def test_trace_minmax_refuses_nan_and_empty(files):
    import hgq

    model, x = trained_mlp(epochs=0)
    bad = x[:10].copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"trace_minmax: the data for input '.*' holds 1 non-finite value\(s\) \(1 NaN"):
        hgq.trace_minmax(model, bad)
    with pytest.raises(ValueError, match=r"trace_minmax: the data for input '.*' is empty"):
        hgq.trace_minmax(model, x[:0])


def test_profile_before_training(files, capsys):
    line = error_of(capsys, ["profile", str(files / "fresh.keras")])
    assert "never trained or calibrated" in line and "--input-range LOW HIGH" in line and "--data" in line
    assert main(["profile", str(files / "fresh.keras"), "--input-range", "-2", "2", "--format", "json"]) == 0
    import json

    report = json.loads(capsys.readouterr().out)
    assert report["summary"]["note"].startswith("ESTIMATE before training: initial bit widths, ranges from inputs "
                                                "uniform in [-2, 2]")
    assert report["summary"]["bops"] > 0 and "zero width" not in report["summary"]["output_types"][0]
