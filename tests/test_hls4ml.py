"""Bit-exactness through real hls4ml: convert the proxy, compile with g++, predict, compare exactly."""

import keras
import numpy as np
import pytest

import hgq
from hgq.layers import HActivation, HDense, HQuantize
from hgq.profiling import profile
from hgq.proxy import convert_to_hls4ml

from bitexact import SideBySide, check_bit_exact
from conftest import regression_data, trained_mlp

pytestmark = pytest.mark.hls4ml


SCALES = (2.5, 3.0)  # overflowing data: 2.5x and 3x the calibration data
AGGRESSIVE = [True, False]
RND_CASES = [  # (rnd_strategy, aggressive, per_element) of the one-type quantizer
    ("floor", True, False),  # TRN/WRAP: hls4ml keeps the quantizer's type as it is
    ("floor", False, True),
    ("standard_round", True, True),
    ("standard_round", False, True),
]
ACTIVATIONS = ["tanh", "sigmoid"]


def mlp_case(aggressive, **kwargs):
    model, x = trained_mlp(**kwargs)
    return model, hgq.to_proxy_model(model, aggressive=aggressive), x[:1000]


def sequence_case(aggressive):
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(1000, 3, 4)).astype("float32")
    inp = keras.Input((3, 4))
    dense = HDense(2, activation="relu", name="d")
    model = keras.Model(inp, dense(HQuantize(paq_conf={"init_bw": 4})(inp)))
    dense.paq.fbits.assign(np.array([[[2.0, 3.0], [4.0, 3.0], [2.0, 1.0]]], "float32"))
    hgq.trace_minmax(model, x)
    return model, hgq.to_proxy_model(model, aggressive=aggressive), x


def wide_accumulator_case():
    from test_proxy import wide_mlp

    model, x = wide_mlp(bits=12, scale=300.0)
    return model, hgq.to_proxy_model(model, aggressive=False), x


def saturation_case():
    keras.utils.set_random_seed(0)
    inp = keras.Input((2,))
    q = HQuantize(name="q")
    dense = HDense(1, use_bias=False, name="d")
    model = keras.Model(inp, dense(q(inp)))
    q.paq.fbits.assign(np.full(q.paq.fbits.shape, 2.0, "float32"))
    dense.kq.fbits.assign(np.zeros(dense.kq.fbits.shape, "float32"))
    dense.kernel.assign(np.ones((2, 1), "float32"))
    dense.paq.fbits.assign(np.full(dense.paq.fbits.shape, 3.0, "float32"))
    x0 = np.random.default_rng(0).integers(0, 4, size=1000) / 4
    x = np.stack([x0, 0.75 - x0], axis=1).astype("float32")  # the sum is 0.75: calibrated to ufixed<3,0>
    hgq.trace_minmax(model, x)
    return model, hgq.to_proxy_model(model, aggressive=False), x


def uneven_one_type_model(rnd_strategy):
    """One type for both outputs, ufixed<16,8>: the first carries an 8-bit integer, the second a value in [0, 1) with
    8 fractional bits. Narrowed once for both, hls4ml would make it ufixed<8,8> and lose the second's fraction."""
    rng = np.random.default_rng(3)
    x = np.stack([rng.uniform(0, 1, 1200), rng.uniform(0, 200, 1200)], 1).astype("float32")
    inp = keras.Input((2,))
    q = HQuantize(name="q")
    dense = HDense(2, use_bias=False, kq_conf={"init_bw": 0}, name="d",
                   paq_conf={"skip_dims": "all", "init_bw": 8, "rnd_strategy": rnd_strategy})
    model = keras.Model(inp, dense(q(inp)))
    q.paq.fbits.assign(np.array([[8.0, 0.0]], "float32"))
    dense.kernel.assign(np.array([[0.0, 1.0], [1.0, 0.0]], "float32"))  # swaps the two inputs
    hgq.trace_minmax(model, x)
    return model, x


def one_type_case(rnd_strategy, aggressive):
    model, x = uneven_one_type_model(rnd_strategy)
    return model, hgq.to_proxy_model(model, aggressive=aggressive), x


def table_activation_model(activation):
    keras.utils.set_random_seed(0)
    x, _ = regression_data(1000, n_in=8)
    inp = keras.Input((8,))
    h = HDense(6, paq_conf={"init_bw": 5})(HQuantize(paq_conf={"init_bw": 5})(inp))
    model = keras.Model(inp, HActivation(activation, paq_conf={"init_bw": 6})(h))
    hgq.trace_minmax(model, x)
    return model, x


def table_activation_case(activation):
    model, x = table_activation_model(activation)
    return model, hgq.to_proxy_model(model), x


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    """Every bit-exact case of this module, compiled side by side: one hls4ml project per io type."""
    projects = SideBySide(tmp_path_factory.mktemp("test_hls4ml"))
    for aggressive in AGGRESSIVE:
        projects.add(("heterogeneous mlp", aggressive), lambda a=aggressive: mlp_case(a), "io_parallel")
        projects.add(("homogeneous mlp", aggressive),
                     lambda a=aggressive: mlp_case(a, paq_conf={"skip_dims": "all"}), "io_stream")
        projects.add(("sequences", aggressive), lambda a=aggressive: sequence_case(a), "io_parallel")
    projects.add("wide accumulators", wide_accumulator_case, "io_parallel")
    projects.add("saturation", saturation_case, "io_parallel")
    for rnd_strategy, aggressive, _ in RND_CASES:
        projects.add(("one type", rnd_strategy, aggressive),
                     lambda r=rnd_strategy, a=aggressive: one_type_case(r, a), "io_parallel")
    for activation in ACTIVATIONS:
        projects.add(("table", activation), lambda a=activation: table_activation_case(a), "io_parallel")
    return projects


shared = pytest.mark.xdist_group("test_hls4ml")  # the worker that compiles the module's projects checks every case


@shared
@pytest.mark.parametrize("aggressive", AGGRESSIVE, ids=["WRAP", "SAT"])
def test_heterogeneous_mlp_io_parallel(aggressive, projects):
    model, proxy, x, part = projects(("heterogeneous mlp", aggressive), "io_parallel")
    check_bit_exact(proxy, x, part, model=model, scales=SCALES)


@shared
@pytest.mark.parametrize("aggressive", AGGRESSIVE, ids=["WRAP", "SAT"])
def test_homogeneous_mlp_io_stream(aggressive, projects):
    model, proxy, x, part = projects(("homogeneous mlp", aggressive), "io_stream")
    check_bit_exact(proxy, x, part, model=model, scales=SCALES)


@shared
@pytest.mark.parametrize("aggressive", AGGRESSIVE, ids=["WRAP", "SAT"])
def test_dense_on_sequences_with_round_half_up_quantizer(aggressive, projects):
    """(batch, T, n) inputs, a different output step per position: the quantizer itself rounds (RND)."""
    model, proxy, x, part = projects(("sequences", aggressive), "io_parallel")
    assert proxy.get_layer("d_q").RND == "RND"
    check_bit_exact(proxy, x, part, model=model, scales=SCALES)


@shared
def test_accumulators_wider_than_float32_holds_are_exact(projects):
    """12-bit widths on inputs of about 300: sums of 30 and more bits, exact in the float64 proxy on every backend,
    saturating on the overflowing data. (The H-model trains in float32 and rounds such sums: no comparison with it.)"""
    model, proxy, x, part = projects("wide accumulators", "io_parallel")
    accumulators = [r.accumulator_bits for r in profile(model).records if r.accumulator_bits]
    assert min(accumulators) > 24, accumulators
    check_bit_exact(proxy, x, part, scales=SCALES)


@shared
def test_saturation_bound_follows_the_input_grid(projects):
    """A saturating output quantizer keeps 3 fractional bits, its input carries 2 (inputs on a 0.25 grid, integer
    weights): hls4ml narrows the type to 2 bits and saturates at 1 - 0.25, not 1 - 0.125, and so must the proxy."""
    model, proxy, x, part = projects("saturation", "io_parallel")
    k, bits, integers = proxy.get_layer("d_q").kbi()
    assert (k.item(), bits.item(), integers.item()) == (0, 2, 0)  # 3 fractional bits narrowed to 2
    assert proxy.predict(np.array([[0.75, 0.75]]), verbose=0).item() == 0.75
    check_bit_exact(proxy, x, part, model=model, scales=(2.5, 3.0))


@shared
@pytest.mark.parametrize("rnd_strategy, aggressive, per_element", RND_CASES,
                         ids=["TRN-WRAP", "TRN-SAT", "RND-WRAP", "RND-SAT"])
def test_one_type_quantizer_after_uneven_inputs(rnd_strategy, aggressive, per_element, projects):
    """The proxy hands hls4ml such a quantizer per element (0.3 % of the samples were exact before)."""
    model, proxy, x, part = projects(("one type", rnd_strategy, aggressive), "io_parallel")
    assert proxy.get_layer("d_q").fusible is not per_element
    check_bit_exact(proxy, x, part, model=model, scales=(2.5, 3.0))


@shared
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_tanh_sigmoid_export_as_bit_exact_lookup_tables(activation, projects):
    """Small enough inputs make tanh/sigmoid a UnaryLUT: exact, overflowing inputs included."""
    model, proxy, x, part = projects(("table", activation), "io_parallel")
    assert any(type(layer).__name__ == "UnaryLUT" for layer in proxy.layers)
    check_bit_exact(proxy, x, part, model=model, scales=SCALES)


def test_io_stream_names_the_quantizers_it_cannot_take(tmp_path):
    """hls4ml's io_stream takes one type per activation quantizer: the error names those kept per element."""
    proxy = hgq.to_proxy_model(uneven_one_type_model("floor")[0], aggressive=False)
    with pytest.raises(ValueError, match=r"io_stream needs one type per activation quantizer, but q, d_q keep a type per "
                                         r"element .* use io_type='io_parallel'"):
        convert_to_hls4ml(proxy, tmp_path / "prj", io_type="io_stream")
