"""QKeras import: proxy == QKeras (fixtures computed by real QKeras 0.9.0), hls4ml == proxy, refused models, CLI."""

import re
import warnings

import h5py
import numpy as np
import pytest

from bitexact import SideBySide, check_bit_exact
from qkeras_fixtures import FIXTURES, NAMES, fixture, mlp_config, predict, write_json

D2_UNQUANTIZED = r"'d2' \(Dense\): no kernel_quantizer and no bias_quantizer, the float32"


def fixture_case(name):
    from hgq.qkeras import from_qkeras

    return None, from_qkeras(FIXTURES / f"{name}.h5"), fixture(name)[0]


def synthetic_case(root, made):
    """The synthetic model's proxy, its files written under ``root``; ``made`` gets the weights file and the warnings
    ``from_qkeras`` gave."""
    from hgq.qkeras import from_qkeras

    config_path, weights_path = synthetic_model(root)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        proxy = from_qkeras(config_path, weights=weights_path)
    made.update(weights_path=weights_path, warnings=caught)
    return None, proxy, np.random.default_rng(1).normal(size=(1000, 16, 3)) * 2


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    """Every fixture's proxy and the synthetic model's, compiled side by side as one hls4ml project (io_parallel);
    ``projects.synthetic``: the synthetic model's weights file and the warnings of its ``from_qkeras``, once built."""
    projects = SideBySide(tmp_path_factory.mktemp("test_qkeras"))
    projects.synthetic = {}
    for name in NAMES:
        projects.add(name, lambda name=name: fixture_case(name), "io_parallel")
    root = tmp_path_factory.mktemp("qkeras_synthetic")
    projects.add("synthetic", lambda: synthetic_case(root, projects.synthetic), "io_parallel")
    return projects


# The tests sharing the module's project (one xdist worker compiles it). Its conversion, in whichever of them comes
# first, warns "max is not a multiple of delta" about the synthetic model's d2 (float32 weights; hls4ml).
@pytest.mark.hls4ml
@pytest.mark.xdist_group("test_qkeras")
@pytest.mark.filterwarnings("ignore:max is not a multiple of delta")
@pytest.mark.parametrize("name", NAMES)
def test_fixture_bit_exact(name, projects):
    """Both input forms reproduce QKeras exactly; hls4ml's C simulation reproduces the proxy, overflow included."""
    from hgq.proxy import FixedPointQuantizer
    from hgq.qkeras import from_qkeras

    x, y_qkeras = fixture(name)
    _, proxy, _, part = projects(name, "io_parallel")
    from_json = from_qkeras(FIXTURES / f"{name}.json", weights=FIXTURES / f"{name}.weights.h5")
    assert isinstance(proxy.layers[1], FixedPointQuantizer), "hls4ml needs a quantizer right after the input"
    assert all(w.dtype == "float64" for w in proxy.weights if "kernel" in w.path or "bias" in w.path)
    assert np.array_equal(predict(proxy, x), y_qkeras)
    assert np.array_equal(predict(from_json, x), y_qkeras)

    check_bit_exact(proxy, x, part, scales=(3.0,))


@pytest.mark.parametrize("name", NAMES)
def test_aggressive_wraps_instead_of_saturating(name):
    """quantized_bits activations wrap; quantized_relu keeps saturating (its saturation at 0 is the ReLU)."""
    from hgq.proxy import FixedPointQuantizer
    from hgq.qkeras import from_qkeras
    from hgq.qkeras.reader import read_model

    x, _ = fixture(name)
    saturating = from_qkeras(FIXTURES / f"{name}.h5")
    wrapping = from_qkeras(FIXTURES / f"{name}.h5", aggressive=True)
    layers = read_model(FIXTURES / f"{name}.h5")[0]["config"]["layers"]
    relu_quantizers = {c["config"]["name"] for c in layers if c["class_name"] == "QActivation"
                       and c["config"]["activation"]["class_name"] == "quantized_relu"}
    modes = {layer.name: layer.SAT for layer in wrapping.layers if isinstance(layer, FixedPointQuantizer)}
    assert modes and all(mode == ("SAT" if q in relu_quantizers else "WRAP") for q, mode in modes.items())
    assert {layer.SAT for layer in saturating.layers if isinstance(layer, FixedPointQuantizer)} <= {"SAT", "SAT_SYM"}
    assert not np.array_equal(predict(wrapping, 3 * x), predict(saturating, 3 * x))


def test_quantizer_semantics_match_design():
    """quantized_bits: ap_fixed<bits, integer+1, RND_CONV, SAT(_SYM)>; quantized_relu: ap_ufixed<bits, integer>."""
    from hgq.qkeras.quantizers import parse_quantizer

    def q(class_name, **config):
        return parse_quantizer({"class_name": class_name, "config": config}, "test")

    assert q("quantized_bits", bits=8, integer=3, keep_negative=True).fixed_type() == (1, 8, 4, "SAT")
    assert q("quantized_bits", bits=6, integer=2, symmetric=1).fixed_type() == (1, 6, 3, "SAT_SYM")
    assert q("quantized_bits", bits=6, integer=2, keep_negative=False).fixed_type() == (0, 6, 2, "SAT")
    assert q("quantized_relu", bits=5, integer=2).fixed_type() == (0, 5, 2, "SAT")
    w = np.array([-2.0, -0.3, -0.0625, 0.03125, 0.09375, 0.99, 5.0], np.float32)
    np.testing.assert_array_equal(q("quantized_bits", bits=4, integer=0).quantize(w),
                                  [-1.0, -0.25, 0.0, 0.0, 0.125, 0.875, 0.875])  # half to even, saturate
    np.testing.assert_array_equal(q("quantized_bits", bits=4, integer=0, symmetric=1).quantize(w)[:1], [-0.875])
    np.testing.assert_array_equal(q("binary", alpha=1).quantize(np.array([-0.5, 0.0, 2.0])), [-1, 1, 1])
    np.testing.assert_array_equal(q("ternary", alpha=1).quantize(np.array([-0.5, 0.2, 0.4])), [-1, 0, 1])


def test_auto_po2_kernel_scale_is_per_channel_power_of_two():
    from hgq.qkeras.quantizers import parse_quantizer
    from hgq.qkeras.reader import read_model

    config, weights = read_model(FIXTURES / "mlp_auto_po2.h5")
    layer = next(c for c in config["config"]["layers"] if c["class_name"] == "QDense")
    quantizer = parse_quantizer(layer["config"]["kernel_quantizer"], "test")
    kernel = quantizer.quantize(weights[layer["config"]["name"]][0])
    # each output channel: integers |z| <= 2**(bits-1) - 1 times its own power-of-two scale
    exponents = [max(e for e in range(-24, 8) if np.array_equal(col / 2.0**e, np.round(col / 2.0**e)))
                 for col in kernel.T]
    assert len(set(exponents)) > 1
    assert all(np.abs(col / 2.0**e).max() <= 2 ** (quantizer.bits - 1) - 1 for col, e in zip(kernel.T, exponents))


# ----- layers the fixtures do not cover: a synthetic Keras 2 model (.json + legacy-layout weights .h5) ------------

def _qbits(bits, integer, **extra):
    return {"class_name": "quantized_bits", "config": {"bits": bits, "integer": integer, "symmetric": 0,
                                                       "keep_negative": True, "alpha": 1, **extra}}


def _qrelu(bits, integer):
    return {"class_name": "quantized_relu", "config": {"bits": bits, "integer": integer}}


def _layer(class_name, name, inbound, **config):
    return {"class_name": class_name, "config": {"name": name, **config}, "name": name,
            "inbound_nodes": [[[n, 0, 0, {}] for n in inbound]] if inbound else []}


def synthetic_model(tmp_path):
    """Conv1D, AveragePooling1D, Flatten, QDense with a quantizer activation, plain Dense(relu), Add,
    Concatenate, Reshape; weights written in Keras 2's legacy ``save_weights`` .h5 layout."""
    dense = {"kernel_quantizer": _qbits(5, 0), "bias_quantizer": _qbits(6, 1)}
    layers = [
        _layer("InputLayer", "inp", [], batch_input_shape=[None, 16, 3]),
        _layer("QActivation", "qa_in", ["inp"], activation=_qbits(8, 2)),
        _layer("QConv1D", "conv", ["qa_in"], filters=4, kernel_size=[3], strides=[1], padding="valid",
               dilation_rate=[1], activation="linear", use_bias=True, kernel_quantizer=_qbits(6, 0, alpha="auto_po2",
                                                                                               symmetric=1),
               bias_quantizer=_qbits(6, 0)),
        _layer("QActivation", "qa_conv", ["conv"], activation=_qrelu(6, 2)),
        _layer("AveragePooling1D", "pool", ["qa_conv"], pool_size=[2], strides=[2], padding="valid"),
        _layer("Flatten", "flat", ["pool"]),
        _layer("QDense", "d1", ["flat"], units=8, use_bias=True, activation=_qrelu(7, 3), **dense),
        _layer("Dense", "d2", ["qa_in_flat"], units=8, use_bias=True, activation="relu"),
        _layer("Add", "add", ["d1", "d2"]),
        _layer("Concatenate", "cat", ["add", "d1"], axis=-1),
        _layer("Reshape", "reshape", ["cat"], target_shape=[4, 4]),
        _layer("QActivation", "qa_out", ["reshape"], activation=_qbits(10, 4)),
    ]
    layers.insert(7, _layer("Flatten", "qa_in_flat", ["qa_in"]))
    config = {"class_name": "Functional", "config": {"name": "synthetic", "layers": layers,
                                                     "input_layers": [["inp", 0, 0]],
                                                     "output_layers": [["qa_out", 0, 0]]}}
    rng = np.random.default_rng(0)
    shapes = {"conv": [(3, 3, 4), (4,)], "d1": [(28, 8), (8,)], "d2": [(48, 8), (8,)]}
    weights_path = tmp_path / "synthetic_weights.h5"
    with h5py.File(weights_path, "w") as f:
        f.attrs["layer_names"] = [c["config"]["name"].encode() for c in layers]
        for c in layers:
            name = c["config"]["name"]
            group = f.create_group(name)
            names = [f"{name}/{w}:0" for w in ("kernel", "bias")][:len(shapes.get(name, []))]
            group.attrs["weight_names"] = [n.encode() for n in names]
            for n, shape in zip(names, shapes.get(name, [])):
                group[n] = (rng.normal(size=shape) * 0.5).astype(np.float32)
    return write_json(config, tmp_path), weights_path


@pytest.mark.hls4ml
@pytest.mark.xdist_group("test_qkeras")
@pytest.mark.filterwarnings("ignore:max is not a multiple of delta")  # hls4ml, about d2's float32 weights
def test_synthetic_layers_bit_exact_with_hls4ml(projects):
    from hgq.qkeras.quantizers import parse_quantizer

    _, proxy, x, part = projects("synthetic", "io_parallel")
    assert any(issubclass(w.category, UserWarning) and re.search(D2_UNQUANTIZED, str(w.message))
               for w in projects.synthetic["warnings"]), [str(w.message) for w in projects.synthetic["warnings"]]
    with h5py.File(projects.synthetic["weights_path"]) as f:
        kernel = np.asarray(f["d1"]["d1/kernel:0"])
    np.testing.assert_array_equal(proxy.get_layer("d1").get_weights()[0],
                                  parse_quantizer(_qbits(5, 0), "test").quantize(kernel))
    check_bit_exact(proxy, x, part, scales=(3.0,))


def test_sequential_config(tmp_path):
    """A Sequential model config (no inbound nodes) converts like the functional one."""
    from hgq.qkeras import from_qkeras

    config = mlp_config()
    layers = [{k: v for k, v in c.items() if k != "inbound_nodes"} for c in config["config"]["layers"]]
    sequential = {"class_name": "Sequential", "config": {"name": "seq", "layers": layers[1:]}}
    sequential["config"]["layers"][0]["config"]["batch_input_shape"] = layers[0]["config"]["batch_input_shape"]
    x, y = fixture("mlp")
    proxy = from_qkeras(write_json(sequential, tmp_path), weights=FIXTURES / "mlp.weights.h5")
    assert np.array_equal(predict(proxy, x), y)
