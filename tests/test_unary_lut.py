"""HActivation with any element-wise function, exported as a UnaryLUT: bit-exact through real hls4ml."""

import keras
import numpy as np
import pytest

import hgq
from hgq.families.activation import ParametricReLU
from hgq.layers import HActivation, HDense, HQuantize
from hgq.proxy import UnaryLUT

from bitexact import SideBySide, check_bit_exact


@keras.saving.register_keras_serializable(package="hgq_tests")
def wobble(x):
    """A custom element-wise function (registered, hence exportable)."""
    return keras.ops.sin(3.0 * x) * x


def unregistered_square(x):
    return x * x


def lut_model(activations=("tanh", "sigmoid", wobble), widths=(6, 5, 4), n=1000):
    """HQuantize -> (HDense -> HActivation)*: every quantizer heterogeneous, set by hand."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 8)).astype("float32")
    inp = keras.Input((8,))
    h = HQuantize(paq_conf={"init_bw": 4}, name="q")(inp)
    layers = []
    for j, (act, w) in enumerate(zip(activations, widths)):
        d = HDense(w, name=f"d{j}")
        a = HActivation(act, name=f"a{j}")
        h = a(d(h))
        layers += [d, a]
    model = keras.Model(inp, h)
    for layer in layers:
        w = layer.paq.fbits.shape[-1]
        fb = np.array([[1.0, 2.0, 3.0, 2.0, 4.0, 3.0][:w]], "float32")
        layer.paq.fbits.assign(fb if isinstance(layer, HDense) else fb + 1)
    hgq.trace_minmax(model, x)
    return model, x


def lut_input_precision(part, name):
    """The input type of the case's layer ``name`` in the shared project, where ``side_by_side`` named it
    ``m{i}_{name}``, like the case's inputs ``m{i}_input{j}``."""
    prefix = part.combined.inputs[part.inputs.start].name.removesuffix("input0")
    return part.hls_model.graph[prefix + name].get_input_variable().type.precision


def proxy_case(aggressive):
    model, x = lut_model()
    return model, hgq.to_proxy_model(model, aggressive=aggressive), x


def leaky_case():
    """Leaky ReLUs on inputs too wide for a table (``unary_lut_max_table_size=4``): exported as ``PReLU``s."""
    model, x = lut_model(activations=(ParametricReLU(0.25), ParametricReLU(-1.5)), widths=(6, 5))
    return model, hgq.to_proxy_model(model, unary_lut_max_table_size=4), x


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    """The WRAP and SAT proxies, compiled side by side as one hls4ml project."""
    projects = SideBySide(tmp_path_factory.mktemp("test_unary_lut"))
    for aggressive in (True, False):
        projects.add(aggressive, lambda a=aggressive: proxy_case(a), "io_parallel")
    projects.add("leaky", leaky_case, "io_parallel")
    return projects


@pytest.mark.hls4ml
@pytest.mark.xdist_group("test_unary_lut")  # the worker that compiles the shared project checks both cases
@pytest.mark.parametrize("aggressive", [True, False], ids=["WRAP", "SAT"])
def test_unary_lut_bit_exact(aggressive, projects):
    model, proxy, x, part = projects(aggressive, "io_parallel")
    luts = [layer for layer in proxy.layers if isinstance(layer, UnaryLUT)]
    assert [layer.name for layer in luts] == ["a0", "a1", "a2"]

    for lut in luts:  # hls4ml feeds each table exactly the type the table was laid out for
        k, i, f = lut.kif_in
        p = lut_input_precision(part, lut.name)
        assert (bool(p.signed), p.width, p.integer) == (bool(k), k + i + f, k + i), lut.name
    check_bit_exact(proxy, x, part, model=model, scales=(3.0,))


@pytest.mark.hls4ml
@pytest.mark.xdist_group("test_unary_lut")
def test_wide_leaky_relu_is_exact_without_a_table(projects):
    model, proxy, x, part = projects("leaky", "io_parallel")
    prelus = [layer for layer in proxy.layers if isinstance(layer, keras.layers.PReLU)]
    assert [layer.name for layer in prelus] == ["a0", "a1"]
    assert np.all(prelus[1].get_weights()[0] == -1.5)
    check_bit_exact(proxy, x, part, model=model, scales=(3.0,))


def test_leaky_slope_float32_cannot_multiply_exactly_is_refused():
    model, _ = lut_model(activations=(ParametricReLU(0.3),), widths=(6,))  # 0.3: 24 significant bits in float32
    with pytest.raises(ValueError, match=r"'a0'.*unary_lut_max_table_size=4"):
        hgq.to_proxy_model(model, unary_lut_max_table_size=4)


def test_table_too_large_falls_back_for_builtin():
    model, _ = lut_model(activations=("tanh",), widths=(6,))
    with pytest.warns(UserWarning, match="not bit-exact.*unary_lut_max_table_size"):
        proxy = hgq.to_proxy_model(model, unary_lut_max_table_size=4)
    assert not any(isinstance(layer, UnaryLUT) for layer in proxy.layers)
    assert isinstance(proxy.get_layer("a0"), keras.layers.Activation)


def test_custom_function_errors():
    model, _ = lut_model(activations=(unregistered_square,), widths=(6,))
    with pytest.raises(ValueError, match="'a0'.*register_keras_serializable"):
        hgq.to_proxy_model(model)
    model, _ = lut_model(activations=(wobble,), widths=(6,))
    with pytest.raises(ValueError, match="'a0'.*unary_lut_max_table_size"):
        hgq.to_proxy_model(model, unary_lut_max_table_size=4)


def test_unary_lut_indexes_by_twos_complement_bits():
    """(Config and .keras file round trips: ``test_layers.TestUnaryLUT``.)"""
    inp = keras.Input((3,), dtype="float64")
    lut = UnaryLUT(table_size=16, kif_in=(1, 1, 2), kif_out=(0, 5, 0), name="lut")  # fixed<1,1,2>: [-2, 1.75]
    m = keras.Model(inp, lut(inp))
    lut.set_weights([np.arange(16.0)])
    v = np.array([[0.0, 0.25, 1.75], [-2.0, -0.25, -1.0]])
    expected = np.array([[0, 1, 7], [8, 15, 12]], dtype=np.float64)  # two's complement raw bits
    assert np.array_equal(m.predict(v, verbose=0), expected)


def test_h_model_with_custom_activation_round_trips(tmp_path):
    model, x = lut_model(activations=(wobble,), widths=(6,))
    path = tmp_path / "h.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert np.array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
