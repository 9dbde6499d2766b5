"""The digits demo end to end (train, calibrate, export, hls4ml C simulation) and its command line."""

import json
import math

import pytest

import hgq_cli
from hgq.cli import demo

pytestmark = [pytest.mark.hls4ml, pytest.mark.once]  # the demo on JAX: test_backends.py


def test_demo_is_bit_exact_and_learns():
    result = demo.run(epochs=10, verbose=False)
    assert result["bit_exact_fraction"] == 1.0
    assert result["hls4ml_accuracy"] == result["proxy_accuracy"]
    assert result["proxy_accuracy"] > 0.7  # ten classes: chance is 0.1
    assert math.isfinite(result["bops"]) and result["bops"] > 0
    assert result["n_test"] > 0


def test_cnn_demo_is_bit_exact_and_learns():
    result = demo.run(model="cnn", epochs=10, verbose=False)
    assert result["model"] == "cnn"
    assert result["bit_exact_fraction"] == 1.0
    assert result["hls4ml_accuracy"] == result["proxy_accuracy"]
    assert result["proxy_accuracy"] > 0.6  # ten classes: chance is 0.1 (10 epochs reach about 0.83)
    assert math.isfinite(result["bops"]) and result["bops"] > 0


def test_transformer_demo_is_bit_exact_and_learns(capsys):
    import hgq_cli

    assert hgq_cli.main(["demo", "--model", "transformer", "--epochs", "10", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "== hgq demo: digits, transformer" in out and "100.00%" in out
    accuracy = float(next(line for line in out.splitlines() if line.startswith("proxy test accuracy")).split()[-1])
    assert accuracy > 0.5  # ten classes: chance is 0.1 (10 epochs reach about 0.8; 60, the default, 0.94)


def test_demo_rejects_unknown_model():
    with pytest.raises(ValueError, match="model must be one of"):
        demo.run(model="rnn", verbose=False)


def test_cli_demo_keeps_project_and_prints_summary(tmp_path, capsys):
    project = tmp_path / "hls"
    assert hgq_cli.main(["demo", "--epochs", "2", "--quiet", "--output-dir", str(project)]) == 0
    out = capsys.readouterr().out
    assert "== hgq demo" in out and "100.00%" in out
    assert any(project.iterdir())


def test_cli_demo_cnn_prints_summary(capsys):
    assert hgq_cli.main(["demo", "--model", "cnn", "--epochs", "2", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "== hgq demo: digits, cnn" in out and "100.00%" in out


def test_cli_rejects_non_positive_epochs(capsys):
    with pytest.raises(SystemExit) as exc:
        hgq_cli.main(["demo", "--epochs", "0"])
    assert exc.value.code == 2
    assert "positive integer" in capsys.readouterr().err


def test_cli_rejects_unknown_model(capsys):
    with pytest.raises(SystemExit) as exc:
        hgq_cli.main(["demo", "--model", "rnn"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_commands_handle_the_transformer(tmp_path):
    """``hgq export``, ``verify`` and ``profile`` on the demo's transformer saved to a file, as a user runs them."""
    import subprocess
    import sys
    from pathlib import Path

    import keras
    import numpy as np

    x_train, _, y_train, _ = demo.digits()
    model = demo.build_transformer_model(1e-4)
    demo.train(model, x_train.reshape(-1, 8, 8), y_train, epochs=1, verbose=False)
    model.save(tmp_path / "transformer.keras")
    np.save(tmp_path / "x.npy", x_train.reshape(-1, 8, 8)[:400])
    hgq = Path(sys.executable).with_name("hgq")

    def run(*args):
        return subprocess.run([str(hgq), *map(str, args)], capture_output=True, text=True, timeout=600)

    done = run("verify", tmp_path / "transformer.keras", "--data", tmp_path / "x.npy", "--quiet")
    assert done.returncode == 0 and "bit-exact" in done.stdout and "NOT" not in done.stdout, done.stderr
    done = run("profile", tmp_path / "transformer.keras", "--data", tmp_path / "x.npy", "--format", "json")
    records = {r["name"]: r for r in json.loads(done.stdout)["records"]}
    assert records["attention"]["type"] == "HMultiHeadAttention" and records["attention"]["bops"] > 0
    done = run("export", tmp_path / "transformer.keras", "--data", tmp_path / "x.npy", "-o", tmp_path / "out")
    assert done.returncode == 0 and (tmp_path / "out" / "proxy.keras").is_file(), done.stderr
    assert isinstance(keras.models.load_model(tmp_path / "out" / "proxy.keras").get_layer("attention_softmax"),
                      keras.layers.Layer)
