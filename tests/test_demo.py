"""The digits demo end to end (train, calibrate, export, hls4ml C simulation) and its command line."""

import json
import math

import pytest

import hgq_cli
from hgq.cli import demo

pytestmark = [pytest.mark.hls4ml, pytest.mark.once]  # the demo on JAX: test_backends.py


def summary(out):
    """The numbers of the demo's summary block (``demo.format_report``)."""
    lines = dict(line.split("  ", 1) for line in out.splitlines() if "  " in line and not line.startswith("=="))
    return {key.strip(): value.strip() for key, value in lines.items()}


def test_demo_is_bit_exact_learns_and_keeps_its_project(tmp_path, capsys):
    project = tmp_path / "hls"
    assert hgq_cli.main(["demo", "--epochs", "10", "--quiet", "--output-dir", str(project)]) == 0
    out = capsys.readouterr().out
    numbers = summary(out)
    assert "== hgq demo: digits, mlp, 10 epochs" in out
    assert numbers["bit-exact samples"].startswith("100.00% of ")
    assert numbers["hls4ml test accuracy"] == numbers["proxy test accuracy"]
    assert float(numbers["proxy test accuracy"]) > 0.7  # ten classes: chance is 0.1
    bops = float(numbers["BOPs"].replace(",", ""))
    assert math.isfinite(bops) and bops > 0
    assert numbers["hls4ml project"] == str(project) and (project / "firmware").is_dir()


def test_cnn_demo_is_bit_exact_and_learns():
    result = demo.run(model="cnn", epochs=10, verbose=False)
    assert result["model"] == "cnn"
    assert result["bit_exact_fraction"] == 1.0
    assert result["hls4ml_accuracy"] == result["proxy_accuracy"]
    assert result["proxy_accuracy"] > 0.6  # ten classes: chance is 0.1 (10 epochs reach about 0.83)
    assert math.isfinite(result["bops"]) and result["bops"] > 0
    assert result["n_test"] > 0 and result["output_dir"] is None


def test_transformer_demo_is_bit_exact_and_learns(capsys):
    import hgq_cli

    assert hgq_cli.main(["demo", "--model", "transformer", "--epochs", "10", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "== hgq demo: digits, transformer" in out and "100.00%" in out
    accuracy = float(next(line for line in out.splitlines() if line.startswith("proxy test accuracy")).split()[-1])
    assert accuracy > 0.5  # ten classes: chance is 0.1 (10 epochs reach about 0.8; 60, the default, 0.94)


def test_rnn_demo_is_bit_exact_and_learns(capsys):
    import hgq_cli

    assert hgq_cli.main(["demo", "--model", "rnn", "--epochs", "10", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "== hgq demo: digits, rnn" in out and "100.00%" in out
    accuracy = float(next(line for line in out.splitlines() if line.startswith("proxy test accuracy")).split()[-1])
    assert accuracy > 0.5  # ten classes: chance is 0.1 (60 epochs, the default, reach 0.92)


def test_mixer_demo_is_bit_exact_and_learns_and_profiles(tmp_path, capsys):
    """The MLP-mixer (``PPermute``, ``PGlobalAveragePooling1D``) end to end, and ``hgq profile`` on it."""
    import keras
    import numpy as np

    result = demo.run(model="mixer", epochs=10, verbose=False)
    assert result["bit_exact_fraction"] == 1.0 and result["hls4ml_accuracy"] == result["proxy_accuracy"]
    assert result["proxy_accuracy"] > 0.5  # ten classes: chance is 0.1 (60 epochs, the default, reach about 0.94)
    x_train, _, y_train, _ = demo.digits()
    model = demo.build_mixer_model(1e-4)
    demo.train(model, x_train.reshape(-1, 8, 8), y_train, epochs=1, verbose=False)
    model.save(tmp_path / "mixer.keras")
    np.save(tmp_path / "x.npy", x_train.reshape(-1, 8, 8)[:400])
    assert hgq_cli.main(["profile", str(tmp_path / "mixer.keras"), "--data", str(tmp_path / "x.npy"), "--format",
                         "json"]) == 0
    records = {r["name"]: r for r in json.loads(capsys.readouterr().out)["records"]}
    assert records["pool"]["type"] == "PGlobalAveragePooling1D" and records["to_channels"]["type"] == "PPermute"
    assert records["token_mixing"]["bops"] > 0
    assert isinstance(keras.models.load_model(tmp_path / "mixer.keras").get_layer("pool"), demo.PGlobalAveragePooling1D)


def test_demo_rejects_unknown_model():
    with pytest.raises(ValueError, match="model must be one of"):
        demo.run(model="gan", verbose=False)


def test_commands_handle_the_transformer(tmp_path, capsys):
    """``hgq export``, ``verify`` (of the exported project) and ``profile`` on the demo's transformer saved to a file
    (in this process, like most of ``test_cli_export.py``)."""
    import keras
    import numpy as np

    x_train, _, y_train, _ = demo.digits()
    model = demo.build_transformer_model(1e-4)
    demo.train(model, x_train.reshape(-1, 8, 8), y_train, epochs=1, verbose=False)
    model.save(tmp_path / "transformer.keras")
    np.save(tmp_path / "x.npy", x_train.reshape(-1, 8, 8)[:400])

    def run(*args):
        code = hgq_cli.main([*map(str, args)])
        out, err = capsys.readouterr()
        assert code == 0, err
        return out

    run("export", tmp_path / "transformer.keras", "--data", tmp_path / "x.npy", "-o", tmp_path / "out", "-q")
    assert isinstance(keras.models.load_model(tmp_path / "out" / "proxy.keras").get_layer("attention_softmax"),
                      keras.layers.Layer)
    out = run("verify", tmp_path / "out" / "proxy.keras", "--data", tmp_path / "x.npy", "--project",
              tmp_path / "out" / "hls4ml_prj", "--quiet")
    assert "bit-exact" in out and "NOT" not in out, out
    records = {r["name"]: r for r in json.loads(run("profile", tmp_path / "transformer.keras", "--data",
                                                     tmp_path / "x.npy", "--format", "json"))["records"]}
    assert records["attention"]["type"] == "HMultiHeadAttention" and records["attention"]["bops"] > 0
