"""The ``hgq profile`` command: exit codes, messages and the files each format writes."""

import csv
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from hgq.outputs import RECORD
from hgq_cli import main
from conftest import saved_trained_mlp

pytestmark = pytest.mark.once  # the command line; the cost report on JAX: test_profiling_report.py


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A trained MLP saved as mlp.keras, with 64 of its inputs as x.npy (and a wrong-shape bad.npy)."""
    folder = tmp_path_factory.mktemp("profile")
    _, x = saved_trained_mlp(folder)
    np.save(folder / "bad.npy", x[:4, :15])
    return folder


def test_missing_model_file(tmp_path, capsys):
    path = str(tmp_path / "nope.keras")
    assert main(["profile", path]) == 1
    assert capsys.readouterr().err == f"error: model file not found: {path}\n"


def test_unreadable_model_file(tmp_path, capsys):
    path = tmp_path / "broken.keras"
    path.write_text("not a model")
    assert main(["profile", str(path)]) == 1
    assert capsys.readouterr().err.startswith(f"error: cannot read the model file {path}")


def test_data_of_the_wrong_shape(saved, capsys):
    assert main(["profile", str(saved / "mlp.keras"), "--data", str(saved / "bad.npy")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: profile: data does not match input")
    assert "expected shape (None, 16), got (4, 15)" in err


@pytest.mark.parametrize("name, message", [("x.csv", "--data must be a NumPy .npy file"),
                                           ("missing.npy", "data file not found")])
def test_bad_data_file(saved, capsys, name, message):
    assert main(["profile", str(saved / "mlp.keras"), "--data", str(saved / name)]) == 1
    assert message in capsys.readouterr().err


def test_text_report_goes_to_stdout(saved, capsys):
    assert main(["profile", str(saved / "mlp.keras"), "--data", str(saved / "x.npy")]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:4] == ["#", "name", "type", "input"]
    assert "dense1" in out and "BOPs counting rules" in out and "version 1" in out


@pytest.mark.parametrize("fmt, ext", [("text", "txt"), ("json", "json"), ("csv", "csv"), ("html", "html")])
def test_each_format_writes_its_file(saved, tmp_path, capsys, fmt, ext):
    out_dir = tmp_path / "reports"
    args = ["profile", str(saved / "mlp.keras"), "--format", fmt, "-o", str(out_dir), "--raw"]
    assert main(args) == 0
    path = out_dir / f"mlp_report.{ext}"
    assert capsys.readouterr().out == f"wrote {path}\n"
    assert sorted(os.listdir(out_dir)) == sorted([path.name, RECORD])
    content = path.read_text(encoding="utf-8")
    if fmt == "json":
        assert [r["name"] for r in json.loads(content)["records"]][1:] == ["inp_q", "dense1", "dense2", "act", "out"]
    elif fmt == "csv":
        assert [row["name"] for row in csv.DictReader(io.StringIO(content))][1:] == [
            "inp_q", "dense1", "dense2", "act", "out"]
    elif fmt == "html":
        assert content.startswith("<!DOCTYPE html>") and "data:image/png;base64," in content
    else:
        assert "latency est. (cycles)" in content


def test_as_a_subprocess(saved, tmp_path):
    """``python -m hgq profile``: a missing file fails with exit code 1, a good one prints its JSON report."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    missing = subprocess.run([sys.executable, "-m", "hgq", "profile", str(tmp_path / "nope.keras")],
                             capture_output=True, text=True, env=env)
    assert missing.returncode == 1
    assert f"error: model file not found: {tmp_path / 'nope.keras'}" in missing.stderr
    good = subprocess.run([sys.executable, "-m", "hgq", "profile", str(saved / "mlp.keras"), "--format", "json",
                           "--data", str(saved / "x.npy")], capture_output=True, text=True, env=env)
    assert good.returncode == 0, good.stderr
    report = json.loads(good.stdout)
    assert report["summary"]["bops"] == sum(r["bops"] for r in report["records"]) > 0
