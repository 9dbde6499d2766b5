"""``hgq export`` and ``hgq verify``: files written, exit codes, bit-exactness, no chatter. The commands run in this
process (``hgq_cli.main``, output captured at the file descriptors, where hls4ml's, da4ml's and g++'s lines would
land), except what only a fresh process shows: ``hgq --help`` fast and without TensorFlow, and the installed ``hgq``
script verifying with TensorFlow's start-up lines hidden. Strategies on a CNN through the Python API."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import trained_mlp
from hgq_cli import main

pytestmark = pytest.mark.once  # the command line; the library on JAX is covered by the other modules

FIXTURES = Path(__file__).parent / "fixtures" / "qkeras"
CHATTER = ("Keras v2 handler used for layer", "da4ml not installed", "Function da_call requires", "absl::",
           "cuda", "oneDNN", "Traceback")


#: The ``hgq`` command that ``pip install`` put next to this Python.
HGQ = Path(sys.executable).with_name("hgq")


def hgq(*args):
    """Run ``hgq ARGS`` as a user does; return the completed process (output as text)."""
    return subprocess.run([str(HGQ), *map(str, args)], capture_output=True, text=True, timeout=300)


def run(capfd, *args):
    """Run ``hgq ARGS`` in this process (``hgq_cli.main``); return it as a completed process: the exit code and what
    Python and C++ wrote to stdout and stderr meanwhile."""
    args = [*map(str, args)]
    code = main(args)
    out, err = capfd.readouterr()
    return subprocess.CompletedProcess(["hgq", *args], code, out, err)


def no_chatter(proc):
    text = proc.stdout + proc.stderr
    assert not [c for c in CHATTER if c in text], text


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli_export")
    model, x = trained_mlp(epochs=1)
    model.save(folder / "mlp.keras")
    np.save(folder / "x.npy", x[:400] * 1.5)  # some overflow: the C simulation must wrap like the proxy
    return folder


def test_help_is_fast_and_imports_no_tensorflow():
    start = time.perf_counter()
    proc = hgq("--help")
    assert proc.returncode == 0 and proc.stdout.startswith("usage: hgq") and proc.stderr == ""
    assert time.perf_counter() - start < 5
    for command in ("export", "verify", "profile"):
        sub = hgq(command, "--help")
        assert sub.returncode == 0 and sub.stderr == "" and "--verbose" in sub.stdout
    code = "import sys, hgq_cli; hgq_cli.build_parser(); print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert out.split() == ["False", "False"]


STRATEGIES = {"latency": [], "resource": ["--reuse-factor", "4"], "distributed_arithmetic": []}


@pytest.fixture(scope="module")
def exported(files, tmp_path_factory):
    """``exported(strategy, capfd)``: ``(folder, proc)`` of ``hgq export`` of the MLP (calibrated on ``--data``) with
    that strategy into ``folder``, run once per module: the first test asking for it runs it (its ``capfd`` takes
    the output), later ones share its project (tests marked ``xdist_group("cli_export")``)."""
    done = {}

    def export(strategy, capfd):
        if strategy not in done:
            out = tmp_path_factory.mktemp(f"export_{strategy}") / "out"
            done[strategy] = out, run(capfd, "export", files / "mlp.keras", "-o", out, "--data", files / "x.npy",
                                      "--strategy", strategy, *STRATEGIES[strategy])
        return done[strategy]

    return export


@pytest.mark.hls4ml
@pytest.mark.xdist_group("cli_export")
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_export_then_verify_its_project_each_strategy(files, exported, capfd, strategy):
    """``hgq export`` of an H-model (calibrated on ``--data``), then ``hgq verify`` of the exported proxy against the
    exported hls4ml project (compiled there), with each strategy."""
    out, proc = exported(strategy, capfd)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    no_chatter(proc)
    assert (out / "proxy.keras").is_file() and (out / "hls4ml_prj" / "firmware").is_dir()
    assert "BOPs:" in proc.stdout and "dense1" in proc.stdout and str(out / "proxy.keras") in proc.stdout
    assert f"strategy {strategy}" in proc.stdout
    assert "writing the hls4ml project" in proc.stderr and " s] " in proc.stderr
    proc = run(capfd, "verify", out / "proxy.keras", "--data", files / "x.npy", "--project", out / "hls4ml_prj",
               "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    no_chatter(proc)
    result = json.loads(proc.stdout)
    assert result["ok"] and result["exact_fraction"] == [1.0] and result["n_samples"] == 400


@pytest.mark.hls4ml
def test_verify_a_qkeras_file_with_the_resource_strategy(capfd, tmp_path):
    """The QKeras fixtures with the latency strategy: ``test_qkeras.py::test_fixture_bit_exact``; with distributed
    arithmetic: ``test_installed_hgq_verifies_a_qkeras_file_quietly``."""
    proc = run(capfd, "verify", FIXTURES / "mlp.h5", "--data", FIXTURES / "mlp_X.npy", "--strategy", "resource",
               *STRATEGIES["resource"], "-o", tmp_path / "v")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    no_chatter(proc)
    assert "100.00% of 2000 samples bit-exact" in proc.stdout
    assert (tmp_path / "v" / "hls4ml_prj" / "firmware").is_dir()


@pytest.mark.hls4ml
def test_installed_hgq_verifies_a_qkeras_file_quietly(tmp_path):
    """The ``hgq`` script, in a fresh process as a user runs it: TensorFlow's start-up lines (written once, at
    import) hidden like hls4ml's, da4ml's and g++'s; exit code 0 when bit-exact. The QKeras MLP with power-of-two
    kernel scales (``auto_po2``): distributed arithmetic compiles it in under half the plain MLP's time."""
    proc = hgq("verify", FIXTURES / "mlp_auto_po2.h5", "--data", FIXTURES / "mlp_auto_po2_X.npy", "--strategy",
               "distributed_arithmetic", "-o", tmp_path / "v")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    no_chatter(proc)
    assert "100.00% of 2000 samples bit-exact" in proc.stdout
    assert (tmp_path / "v" / "hls4ml_prj" / "firmware").is_dir()


@pytest.mark.hls4ml
def test_verify_an_h_model_calibrates_it_on_the_data(files, capfd):
    proc = run(capfd, "verify", files / "mlp.keras", "--data", files / "x.npy")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    no_chatter(proc)
    assert "output 0 (out_q): 100.00% of 400 samples bit-exact" in proc.stdout


@pytest.mark.hls4ml
@pytest.mark.xdist_group("cli_export")
def test_broken_proxy_fails_and_names_the_layer(files, exported, capfd, tmp_path):
    import keras

    out, proc = exported("latency", capfd)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proxy = keras.models.load_model(out / "proxy.keras")
    q = proxy.get_layer("out_q")
    k, b, i = q.kbi()
    q.set_kbi(k, b + 1, i)  # one more fractional bit than the exported project computes
    proxy.save(tmp_path / "broken.keras")
    # a copy: compiled here under its own path, not the library already loaded from the shared project
    shutil.copytree(out / "hls4ml_prj", tmp_path / "hls4ml_prj")
    proc = run(capfd, "verify", tmp_path / "broken.keras", "--data", files / "x.npy", "--project",
               tmp_path / "hls4ml_prj")
    assert proc.returncode == 1
    assert "NOT bit-exact" in proc.stdout and "output 0 (out_q) sample" in proc.stdout
    assert "ap_fixed<" in proc.stdout or "ap_ufixed<" in proc.stdout


@pytest.mark.hls4ml
def test_strategies_on_a_cnn(tmp_path):
    """Python API: ``verify`` of a small CNN proxy with each strategy (one process, three compiles)."""
    import keras

    from hgq import to_proxy_model, trace_minmax
    from hgq.layers import HConv2D, HDense, HQuantize, PFlatten, PMaxPooling2D
    from hgq.proxy import verify

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6, 6, 2)), HQuantize(), HConv2D(4, 3, activation="relu"),
                              PMaxPooling2D(2), PFlatten(), HDense(3)])
    x = np.random.default_rng(0).normal(size=(300, 6, 6, 2)).astype("float32")
    trace_minmax(model, x)
    proxy = to_proxy_model(model)
    for strategy, rf in (("latency", 1), ("resource", 2), ("distributed_arithmetic", 1)):
        result = verify(proxy, x * 2, output_dir=tmp_path / strategy, strategy=strategy, reuse_factor=rf)
        assert result.ok and result.exact_fraction == [1.0], (strategy, result.format())
    with pytest.raises(ValueError, match="reuse factor 5 does not fit layer"):
        verify(proxy, x, strategy="resource", reuse_factor=5)


@pytest.mark.hls4ml
def test_verify_a_two_input_proxy(tmp_path):
    """Python API with a list of input arrays; a deliberately wrong hls4ml output is reported with its layer."""
    import keras

    from hgq import to_proxy_model, trace_minmax
    from hgq.layers import HDense, HQuantize, PConcatenate
    from hgq.proxy import verify
    from hgq.proxy.verify import compare

    keras.utils.set_random_seed(1)
    a, b = keras.Input((5,)), keras.Input((3,))
    out = HDense(2, name="d")(PConcatenate()([HQuantize(name="qa")(a), HQuantize(name="qb")(b)]))
    model = keras.Model([a, b], out)
    rng = np.random.default_rng(1)
    x = [rng.normal(size=(1000, 5)).astype("float32"), rng.normal(size=(1000, 3)).astype("float32")]
    trace_minmax(model, x)
    proxy = to_proxy_model(model)
    result = verify(proxy, [x[0] * 3, x[1] * 3], output_dir=tmp_path / "prj")
    assert result.ok and result.n_samples == 1000, result.format()
    y = proxy.predict(x, verbose=0)
    y[7, 1] += 1.0
    wrong = compare(proxy, x, [y])
    assert not wrong.ok and wrong.mismatches[0].sample == 7 and wrong.mismatches[0].layer == "d_q"


def test_source_files_stay_short():
    root = Path(__file__).parent.parent / "src" / "hgq"
    for path in [*root.glob("cli/*.py"), root / "proxy" / "hls.py", root / "proxy" / "verify.py"]:
        assert len(path.read_text().splitlines()) <= 300, path
    assert os.path.isfile(root / "cli" / "__init__.py")
