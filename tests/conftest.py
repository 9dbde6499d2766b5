"""Shared fixtures and model builders.

The suite runs once per Keras backend (``KERAS_BACKEND=tensorflow``, the default, and ``KERAS_BACKEND=jax``;
see the README's test command). Tests marked ``once`` do not depend on the backend and run in the TensorFlow pass
only. On JAX, 64-bit mode is on, as the proxy model needs (docs/proxy.md).

Keras is imported lazily (inside fixtures and helpers), so that pytest-xdist's controller process, which only
loads this file, never starts a backend.

On JAX the test processes share one compilation cache for the run (``JAX_COMPILATION_CACHE_DIR``, a temporary folder
that the controller creates before it starts the workers, which inherit its environment, and removes at exit): many
tests build models of the same shapes, whose programs XLA then compiles once (a fifth of the JAX pass's time). XLA
compiles them at LLVM optimization level 0 (``--xla_backend_optimization_level=0``): the suite's programs are small and
mostly run once (eager ops of the export, short trainings), so compiling dominates; IEEE arithmetic is the same at any
level (no fast-math), and the JAX pass took a quarter less time on test_quantize_model and test_training.
"""

import atexit
import os
import shutil
import tempfile

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("JAX_ENABLE_X64", "1")
BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")
if BACKEND == "jax" and "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    os.environ["JAX_COMPILATION_CACHE_DIR"] = tempfile.mkdtemp(prefix="hgq-tests-jax-cache-")
    os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
    os.environ["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "0"
    atexit.register(shutil.rmtree, os.environ["JAX_COMPILATION_CACHE_DIR"], ignore_errors=True)
    os.environ["XLA_FLAGS"] = " ".join([os.environ.get("XLA_FLAGS", ""), "--xla_backend_optimization_level=0"]).strip()


def pytest_report_header(config):
    return f"Keras backend: {BACKEND}"


def pytest_collection_modifyitems(config, items):
    """Outside the TensorFlow pass, deselect the backend-independent tests (``@pytest.mark.once``)."""
    if BACKEND == "tensorflow":
        return
    once = [item for item in items if item.get_closest_marker("once")]
    if once:
        config.hook.pytest_deselected(items=once)
        items[:] = [item for item in items if not item.get_closest_marker("once")]


def pytest_generate_tests(metafunc):
    """A layer test's hls4ml check runs under each of its class's ``strategies`` (``layer_base``)."""
    if metafunc.function.__name__ == "test_hls4ml_bit_exact" and "strategy" in metafunc.fixturenames:
        metafunc.parametrize("strategy", metafunc.cls.strategies)


@pytest.fixture(autouse=True)
def factory_defaults():
    """Every test starts and ends with the factory quantizer defaults."""
    import hgq

    hgq.set_default_kq_conf(None)
    hgq.set_default_paq_conf(None)
    yield
    hgq.set_default_kq_conf(None)
    hgq.set_default_paq_conf(None)


@pytest.fixture
def mixed_bfloat16():
    """The ``mixed_bfloat16`` dtype policy during the test (layers created in it compute in bfloat16, hgq layers in
    float32); ``float32`` again afterwards, also when the test fails."""
    import keras

    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        yield
    finally:
        keras.config.set_dtype_policy("float32")


@pytest.fixture(scope="session")
def hls4ml_projects(tmp_path_factory):
    """``projects(proxy, io_type="io_parallel", **kwargs)``: the compiled hls4ml model of ``proxy``, compiled once
    per session for each distinct proxy (see ``bitexact.HLS4MLProjects``)."""
    from bitexact import HLS4MLProjects

    return HLS4MLProjects(tmp_path_factory.mktemp("hls4ml"))


@pytest.fixture(scope="session")
def layer_project(request, tmp_path_factory):
    """``project(test_class, io_type, strategy=...)``: the ``(model, proxy, x, part)`` of a ``layer_base`` test class,
    its proxy compiled with those of every other selected layer test class as one hls4ml project
    (``bitexact.layer_project``)."""
    from bitexact import layer_project

    return layer_project(request.session.items, tmp_path_factory.mktemp("layers"))


def regression_data(n=2048, n_in=16, n_out=5, seed=0):
    """Inputs and a smooth non-linear target."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, n_in)).astype("float32")
    w = rng.normal(size=(n_in, n_out)).astype("float32") / np.sqrt(n_in)
    return x, np.tanh(x @ w).astype("float32")


def on_grid(keep_negative, bits, int_bits, size, rng):
    """Random values of the hls4ml types ``(keep_negative, bits, int_bits)`` (arrays broadcast to the feature shape,
    the last axes of ``size``): in range and on each element's grid, as a ``Signature`` of these types declares."""
    k, b, integers = (np.asarray(a) for a in (keep_negative, bits, int_bits))
    raw = rng.integers(-k * 2 ** (b - 1), 2 ** (b - k), size=size)  # signed: [-2^(b-1), 2^(b-1)); else [0, 2^b)
    return (raw * 2.0 ** (integers - b)).astype("float32")


def mlp(n_in=16, n_out=5, beta=1e-6, paq_conf=None, seed=0):
    """HQuantize -> HDense(relu) -> HDense(no bias, floor) -> HActivation(relu) -> HDense (stochastic rounding).

    Covers every export rounding: TRN (floor), RND (standard_round) and RND absorbed by a bias.
    """
    import keras

    from hgq.layers import HActivation, HDense, HQuantize

    keras.utils.set_random_seed(seed)
    paq = dict(paq_conf or {})
    inp = keras.Input((n_in,))
    x = HQuantize(paq_conf={**paq, "init_bw": 4, "rnd_strategy": "standard_round"}, name="inp_q")(inp)
    x = HDense(24, activation="relu", beta=beta, paq_conf=paq, name="dense1")(x)
    x = HDense(16, use_bias=False, beta=beta, paq_conf={**paq, "rnd_strategy": "floor"}, name="dense2")(x)
    x = HActivation("relu", paq_conf=paq, name="act")(x)
    out = HDense(n_out, beta=beta, paq_conf={**paq, "rnd_strategy": "stochastic_round"}, name="out")(x)
    return keras.Model(inp, out)


def trained_mlp(epochs=3, **kwargs):
    """``mlp(**kwargs)`` trained a few epochs on ``regression_data`` and calibrated on it; returns model and inputs."""
    import keras

    import hgq

    x, y = regression_data()
    model = mlp(**kwargs)
    model.compile(keras.optimizers.Adam(3e-3), "mse")
    model.fit(x, y, epochs=epochs, batch_size=128, verbose=0)
    hgq.trace_minmax(model, x)
    return model, x


def saved_trained_mlp(folder, n_inputs=64):
    """``trained_mlp(epochs=1)`` saved as ``folder/mlp.keras`` and ``n_inputs`` of its inputs as ``folder/x.npy``;
    returns the model and all its inputs."""
    model, x = trained_mlp(epochs=1)
    model.save(folder / "mlp.keras")
    np.save(folder / "x.npy", x[:n_inputs])
    return model, x


def gradients(fn, *args):
    """The gradient of the scalar ``fn(*args)`` with respect to each of ``args``, on the running backend."""
    import keras

    if keras.backend.backend() == "jax":
        import jax

        return [np.asarray(g) for g in jax.grad(fn, argnums=tuple(range(len(args))))(*args)]
    import tensorflow as tf

    args = [tf.convert_to_tensor(a) for a in args]
    with tf.GradientTape() as tape:
        tape.watch(args)
        total = fn(*args)
    return [g.numpy() for g in tape.gradient(total, args)]
