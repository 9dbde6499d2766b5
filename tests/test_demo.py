"""The digits demo end to end (train, calibrate, export, hls4ml C simulation) and its command line."""

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
