"""Converting a proxy with hls4ml prints nothing unless asked: hls4ml finds a Keras-3 handler for the proxy's own
layers (each family's hls_handler, handed to hls4ml by hgq.proxy.hls_handlers), so it never tries its
distributed-arithmetic fallback (which printed a dozen lines per quantizer with da4ml installed), and its real
warnings still reach the user."""

import hls4ml
import keras
import pytest

import hgq
from hgq.layers import HAdd, HBatchNormalization, HConv2D, HDense, HQuantize, PFlatten
from hgq.proxy import BatchNormalization, Einsum, FixedPointQuantizer, UnaryLUT, convert_to_hls4ml
from hgq.families.hls4ml_handlers import handler_key

from conftest import regression_data


def small_proxy():
    keras.utils.set_random_seed(0)
    inp = keras.Input((4, 4, 1))
    h = HConv2D(2, 3, activation="relu", name="c")(HQuantize(name="q")(inp))
    model = keras.Model(inp, HDense(3, name="d")(PFlatten(name="f")(h)))
    x, _ = regression_data(64, n_in=16)
    hgq.trace_minmax(model, x.reshape(-1, 4, 4, 1))
    return hgq.to_proxy_model(model)


def test_the_proxy_layers_have_keras3_handlers():
    from hls4ml.converters.keras_v3 import layer_handlers

    classes = (FixedPointQuantizer, UnaryLUT, Einsum, BatchNormalization)
    assert all(handler_key(cls) in layer_handlers for cls in classes)


@pytest.mark.parametrize("strategy", ["latency", "distributed_arithmetic"])
def test_conversion_prints_nothing(strategy, tmp_path, capfd):
    proxy = small_proxy()
    capfd.readouterr()
    convert_to_hls4ml(proxy, tmp_path / "prj", strategy=strategy)
    hls4ml.utils.config_from_keras_model(proxy, granularity="name")  # hls4ml's own entry point, called directly
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


def test_merge_model_with_batchnorm_converts_without_da_call_probe(tmp_path, capfd):
    """A residual sum after an HBatchNormalization (issue 25): hls4ml had no Keras-3 handler for the proxy's
    BatchNormalization, so ``config_from_keras_model`` (which always allows the DA fallback) probed da4ml's tracer,
    which imports HGQ2's ``hgq.layers.core`` under our ``hgq`` and printed ``Function da_call requires da4ml..., but
    package hgq.layers.core is missing`` on stderr."""
    keras.utils.set_random_seed(0)
    inp = keras.Input((4,))
    h = HBatchNormalization(name="bn")(HQuantize(name="q")(inp))
    model = keras.Model(inp, HAdd(name="add")([HDense(4, name="d")(h), h]))
    x, _ = regression_data(64, n_in=4)
    hgq.trace_minmax(model, x)
    proxy = hgq.to_proxy_model(model)
    assert {type(proxy.get_layer(n)) for n in ("bn", "add")} == {BatchNormalization, keras.layers.Add}
    capfd.readouterr()
    convert_to_hls4ml(proxy, tmp_path / "prj")
    hls4ml.utils.config_from_keras_model(proxy, granularity="name")  # hls4ml's own entry point, called directly
    out, err = capfd.readouterr()
    assert "da_call" not in out + err and "Keras v2 handler" not in out + err, out + err


def test_hls4mls_warnings_are_not_hidden(tmp_path):
    """A hand-made proxy with Keras' own softmax, which hls4ml warns it cannot build bit-exactly."""
    inp = keras.Input((4,), dtype="float64")
    q = FixedPointQuantizer(RND="TRN", SAT="WRAP", fusible=True, dtype="float64", name="q")
    proxy = keras.Model(inp, keras.layers.Activation("softmax", dtype="float64", name="sm")(q(inp)))
    q.set_kbi(1, 8, 4)
    with pytest.warns(UserWarning, match="converted from a frontend not supporting bit-exact softmax"):
        convert_to_hls4ml(proxy, tmp_path / "prj")


@pytest.mark.hls4ml
def test_proxy_predictions_keep_float64_inputs(hls4ml_projects):
    """Keras' ``predict`` casts float64 inputs to float32, which here moves ``0.5 + 2^-20 - 2^-40`` across the floor
    of a 20-bit input quantizer; ``proxy_predict`` (what ``verify`` compares) sees what hls4ml sees."""
    import numpy as np

    from hgq.layers import HDense as Dense
    from hgq.proxy import hls4ml_predict, proxy_predict

    inp = keras.Input((1,))
    dense = Dense(1, use_bias=False, kq_conf={"init_bw": 0}, paq_conf={"init_bw": 20}, name="d")
    model = keras.Model(inp, dense(HQuantize(paq_conf={"init_bw": 20}, name="q")(inp)))
    dense.kernel.assign(np.ones((1, 1), "float32"))
    hgq.trace_minmax(model, np.linspace(0, 1, 64, dtype="float32")[:, None])
    proxy = hgq.to_proxy_model(model)
    x = np.array([[0.5 + 2.0**-20 - 2.0**-40], [0.25 + 2.0**-20 - 2.0**-45], [0.75]])
    expected = np.array([[0.5], [0.25], [0.75]])
    hls = hls4ml_predict(hls4ml_projects(proxy), x, proxy)
    assert np.array_equal(hls, expected) and np.array_equal(proxy_predict(proxy, x), expected)
    assert not np.array_equal(proxy.predict(x, verbose=0), expected)  # the float32 cast: 0.5 + 2^-20


def two_in_two_out_proxy():
    """A calibrated proxy of two inputs (one of them 2-D) and two outputs."""
    import numpy as np

    keras.utils.set_random_seed(0)
    a, b = keras.Input((4,), name="a"), keras.Input((2, 2), name="b")
    qa = HQuantize(name="qa")(a)
    added = HAdd(name="add")([qa, PFlatten(name="flat")(HQuantize(name="qb")(b))])
    model = keras.Model([a, b], [HDense(3, name="d1")(added), HDense(2, name="d2")(qa)])
    rng = np.random.default_rng(0)
    hgq.trace_minmax(model, [rng.normal(size=(64, 4)).astype("float32"), rng.normal(size=(64, 2, 2)).astype("float32")])
    return hgq.to_proxy_model(model)


@pytest.mark.hls4ml
def test_c_simulation_computes_what_hls4mls_predict_computes(hls4ml_projects):
    """``c_simulation`` calls the compiled function on addresses computed once instead of through hls4ml's
    ``predict``: the same outputs, overflowing inputs included; inputs that do not fit are refused by name."""
    import numpy as np

    from hgq.proxy import hls4ml_predict, proxy_predict
    from hgq.proxy.c_simulation import c_simulation

    proxy = two_in_two_out_proxy()
    hls_model = hls4ml_projects(proxy)
    rng = np.random.default_rng(1)
    x = [rng.normal(size=(300, 4)) * 4, rng.normal(size=(300, 2, 2)) * 4]  # 4x the calibration data: overflows
    expected = hls_model.predict([np.ascontiguousarray(a.reshape(300, -1)) for a in x])
    got = c_simulation(hls_model, x)
    assert len(got) == 2 and all(np.array_equal(g, e) for g, e in zip(got, expected))
    assert all(np.array_equal(h, p) for h, p in zip(hls4ml_predict(hls_model, x, proxy), proxy_predict(proxy, x)))
    with pytest.raises(ValueError, match="has 2 inputs, got 1 arrays"):
        c_simulation(hls_model, x[:1])
    with pytest.raises(ValueError, match=r"input 1 \(.*\) holds \(300, 3\), expected 300 samples of 4 values"):
        c_simulation(hls_model, [x[0], np.zeros((300, 3))])
    with pytest.raises(ValueError, match=r"input 1 \(.*\) holds \(299, 2, 2\)"):
        c_simulation(hls_model, [x[0], x[1][:299]])
