"""Converting a proxy with hls4ml prints nothing unless asked: hls4ml finds a Keras-3 handler for the proxy's own
layers (hgq.proxy.hls_handlers), so it never tries its distributed-arithmetic fallback (which printed a dozen lines
per quantizer with da4ml installed), and its real warnings still reach the user."""

import hls4ml
import keras
import pytest

import hgq
from hgq.layers import HConv2D, HDense, HQuantize, PFlatten
from hgq.proxy import convert_to_hls4ml
from hgq.proxy.hls_handlers import handler_keys

from conftest import regression_data
from test_hls4ml import table_activation_model


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

    assert all(key in layer_handlers for key in handler_keys())


@pytest.mark.parametrize("strategy", ["latency", "distributed_arithmetic"])
def test_conversion_prints_nothing(strategy, tmp_path, capfd):
    proxy = small_proxy()
    capfd.readouterr()
    convert_to_hls4ml(proxy, tmp_path / "prj", strategy=strategy)
    hls4ml.utils.config_from_keras_model(proxy, granularity="name")  # hls4ml's own entry point, called directly
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


def test_hls4mls_warnings_are_not_hidden(tmp_path):
    with pytest.warns(UserWarning, match="not bit-exact"):
        proxy = hgq.to_proxy_model(table_activation_model("softmax")[0])
    with pytest.warns(UserWarning, match="converted from a frontend not supporting bit-exact softmax"):
        convert_to_hls4ml(proxy, tmp_path / "prj")
