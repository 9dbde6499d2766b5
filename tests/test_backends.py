"""What depends on which Keras backend is installed and chosen: files that move between TensorFlow and JAX, a JAX
install without TensorFlow, a missing backend, JAX without 64-bit mode. Each case runs in fresh processes that
choose their backend (the files test also in this one, on TensorFlow), so the module runs once (in the TensorFlow
pass)."""

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.once

TESTS = os.path.dirname(__file__)


def python(code_or_script, *args, backend, x64=None, timeout=600):
    """Run ``python -c code`` (or a script of ``tests/``) with ``KERAS_BACKEND=backend``; the finished process."""
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("JAX_ENABLE_X64", None)
    if x64 is not None:
        env["JAX_ENABLE_X64"] = x64
    command = ([sys.executable, os.path.join(TESTS, code_or_script)] if code_or_script.endswith(".py")
               else [sys.executable, "-c", code_or_script])
    return subprocess.run(command + list(args), check=False, capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=TESTS)


def json_result(done):
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_keras_files_move_between_backends(tmp_path):
    """An H-model and its proxy saved on one backend load on the other, both ways; both proxies give the same bits.
    TensorFlow is this process's (the module runs in the TensorFlow pass); a JAX process loads its files and saves
    its own, which this process loads."""
    import keras

    from backend_flow import load, save

    assert keras.backend.backend() == "tensorflow"
    saved_on = {backend: tmp_path / backend for backend in ("tensorflow", "jax")}
    for folder in saved_on.values():
        folder.mkdir()
    save(str(saved_on["tensorflow"]))
    loaded = {"samples": 1200, "rebuilt_proxy_equal": True, "saved_proxy_equal": True}
    done = python("backend_flow.py", "load", str(saved_on["tensorflow"]), "save", str(saved_on["jax"]),
                  backend="jax", x64="1")
    assert json_result(done) == [{"backend": "jax", **loaded}, {"backend": "jax"}]
    assert load(str(saved_on["jax"])) == loaded


BLOCK = "import sys; sys.modules[{!r}] = None  # as if it were not installed\n"


@pytest.mark.hls4ml
def test_jax_alone_runs_the_whole_demo():
    """Train, calibrate, export, compile with hls4ml, compare: on JAX with TensorFlow absent, 64-bit mode turned on
    by the command line."""
    done = python(BLOCK.format("tensorflow") + "import hgq_cli\nsys.exit(hgq_cli.main(['demo', '--epochs', '3', "
                  "'--quiet']))", backend="jax")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "== hgq demo" in done.stdout and "100.00%" in done.stdout


@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_a_missing_backend_names_the_extra_to_install(backend):
    done = python(BLOCK.format(backend) + "import hgq", backend=backend)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        f"ImportError: Keras' {backend} backend is not installed (no module named '{backend}'): pip install "
        f"'hgq-keras[{backend}]', or choose an installed backend with KERAS_BACKEND=tensorflow|jax "
        f"(hgq-keras[tensorflow], hgq-keras[jax])")


def test_the_command_line_reports_a_missing_backend_in_one_line():
    done = python(BLOCK.format("jax") + "import hgq_cli\nsys.exit(hgq_cli.main(['profile', 'model.keras']))",
                  backend="jax")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith("error: Keras' jax backend is not installed") and "hgq-keras[jax]" in done.stderr


def test_jax_without_64_bit_mode_refuses_to_build_a_proxy():
    """JAX would compute the float64 proxy (and a layer normalization's emulation) in float32: refused, with what to
    set."""
    code = ("import keras, hgq\nfrom hgq.layers import HGRU, HLayerNormalization, HQuantize\n"
            "from hgq.qkeras import from_qkeras\n"
            "inp = keras.Input((3,))\nmodel = keras.Model(inp, HQuantize(name='q')(inp))\n"
            "for build in (lambda: hgq.to_proxy_model(model), lambda: from_qkeras('/nonexistent.h5'),\n"
            "              lambda: HLayerNormalization(name='ln')(inp),\n"
            "              lambda: HGRU(2, name='rnn')(keras.Input((4, 3)))):\n"
            "    try:\n        build()\n    except ValueError as error:\n        print(error)\n")
    done = python(code, backend="jax", x64="0")
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines() == [
        f"{caller}: the proxy computes in float64, which the JAX backend truncates to float32 unless 64-bit mode is "
        "on: set JAX_ENABLE_X64=1 before importing JAX" for caller in ("to_proxy_model", "from_qkeras")] + [
        f"{layer} emulates the firmware in float64, which the JAX backend truncates to float32 unless 64-bit mode is "
        "on: set JAX_ENABLE_X64=1 before importing JAX" for layer in ("HLayerNormalization 'ln'", "HGRU 'rnn'")]
