"""HSoftmax, hls4ml's table softmax: bit-exact through hls4ml for the stable and latency implementations at two
table sizes (overflowing inputs included), close to the float softmax, its tables as the C simulation computes them,
and its refusals."""

import keras
import numpy as np
import pytest

import hgq
from hgq.layers import HActivation, HDense, HEinsumDense, HQuantize, HSoftmax
from hgq.proxy import Softmax, convert_to_hls4ml

from bitexact import SideBySide, check_bit_exact

#: (implementation, table-size argument): stable with exp tables of 2^6 and 2^8 entries (norm_bits), latency with
#: inputs of 6 and 8 bits (the exp table's index)
CASES = [("stable", {"norm_bits": 6, "sum_bits": 8}), ("stable", {"norm_bits": 8, "exp_bits": 12, "inv_bits": 11}),
         ("latency", {"input_type": (1, 2, 3)}), ("latency", {"input_type": (1, 3, 4), "sum_bits": 12})]
IDS = ["stable-64", "stable-256", "latency-64", "latency-256"]


def softmax_model(implementation, seed=0, scores_shape=None, **kwargs):
    """HQuantize -> HDense (the scores) -> HSoftmax, heterogeneous widths, trained a step and calibrated; scores_shape
    (tokens, tokens) gives attention-like scores from an HEinsumDense instead."""
    keras.utils.set_random_seed(seed)
    inp = keras.Input((6,) if scores_shape is None else (scores_shape[0], 6))
    h = HQuantize(paq_conf={"init_bw": 4}, name="q")(inp)
    if scores_shape is None:
        h = HDense(5, name="scores")(h)
    else:
        h = HEinsumDense("abc,cd->abd", scores_shape, name="scores")(h)
    model = keras.Model(inp, HSoftmax(implementation=implementation, paq_conf={"init_bw": 8}, name="sm", **kwargs)(h))
    x = np.random.default_rng(seed).normal(size=(1000, *inp.shape[1:])).astype("float32") * 2
    model.compile(keras.optimizers.Adam(0.01), "mse")
    model.fit(x, np.full((1000, *model.output_shape[1:]), 0.2), epochs=1, batch_size=128, verbose=0)
    hgq.trace_minmax(model, x)
    return model, x


def proxy_case(implementation, **kwargs):
    model, x = softmax_model(implementation, **kwargs)
    return model, hgq.to_proxy_model(model), x


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    """Every bit-exact case of this module, compiled side by side: one hls4ml project per strategy."""
    projects = SideBySide(tmp_path_factory.mktemp("test_softmax"))
    for case, (implementation, kwargs) in zip(IDS, CASES):
        projects.add(case, lambda i=implementation, k=kwargs: proxy_case(i, **k))
    projects.add("attention scores", lambda: proxy_case("stable", scores_shape=(4, 4)),
                 strategy="distributed_arithmetic")
    return projects


shared = pytest.mark.xdist_group("test_softmax")  # the worker that compiles the module's projects checks every case


@pytest.mark.hls4ml
@shared
@pytest.mark.parametrize("implementation, kwargs", CASES, ids=IDS)
def test_bit_exact_with_hls4ml(implementation, kwargs, projects):
    model, proxy, x, part = projects(IDS[CASES.index((implementation, kwargs))])
    assert type(proxy.get_layer("sm")) is Softmax
    check_bit_exact(proxy, x, part, model=model, scales=(2.5, 3.0))


@pytest.mark.hls4ml
@shared
def test_softmax_over_the_last_axis_of_attention_scores(projects):
    """Several slices (hls4ml's softmax_multidim), with the distributed-arithmetic strategy for the rest."""
    model, proxy, x, part = projects("attention scores", strategy="distributed_arithmetic")
    check_bit_exact(proxy, x, part, model=model, scales=(2.5, 3.0))


def test_close_to_the_float_softmax_and_trains():
    model, x = softmax_model("stable", norm_bits=8, exp_bits=12, inv_bits=11, sum_bits=10)
    layer = model.get_layer("sm")
    scores = keras.Model(model.inputs, layer.input).predict(x, verbose=0)
    exact = np.exp(scores - scores.max(-1, keepdims=True))
    exact /= exact.sum(-1, keepdims=True)
    assert np.max(np.abs(model.predict(x, verbose=0) - exact)) < 0.01
    # the float softmax's gradient reaches the layers before
    before = np.array(model.get_layer("scores").kernel)
    model.train_on_batch(x[:128], np.full((128, 5), 0.2))
    assert not np.array_equal(np.array(model.get_layer("scores").kernel), before)


@pytest.mark.once
def test_tables_are_what_the_c_simulation_computes():
    from hgq.families.softmax.layer import table_types

    tables = table_types("stable", 5, exp_bits=10, inv_bits=10, sum_bits=10, norm_bits=8, norm_integer_bits=4,
                         input_type=None)
    exp_table, inv_table = tables.exp_table(), tables.inv_table()
    assert exp_table[0] == 1.0 and np.all(np.diff(exp_table) <= 0)  # exp(-d) for d = 0, 1/16, ...
    d = np.arange(256) / 16
    np.testing.assert_allclose(exp_table, np.exp(-d), atol=2.0**-9)  # rounded to 9 fractional bits
    # the inverse table: index s (the sum, in [0, 8)) holds 1/s, saturating at the largest value where s < 1/2
    s = np.arange(1024) / 128
    assert inv_table[0] == inv_table[1] == 2 - 2.0**-9
    np.testing.assert_allclose(inv_table[128:], 1 / s[128:], atol=2.0**-9)
    # hls4ml derives the sum's type from the inverse table's input type and the slice length
    accum = tables.accum_t
    assert (accum.k, accum.i, accum.f, accum.overflow) == (0, 3 + 3, 9 + 2 * 3, "WRAP")


def test_refusals(tmp_path):
    with pytest.raises(ValueError, match=r"HActivation 'a': 'softmax' is not an element-wise function; use HSoftmax"):
        HActivation("softmax", name="a")
    with pytest.raises(ValueError, match="HSoftmax 'sm': implementation='legacy'; allowed: stable, latency"):
        HSoftmax(implementation="legacy", name="sm")
    inp = keras.Input((6,))
    with pytest.raises(ValueError, match=r"HSoftmax 'sm': its sums and products need up to 30 bits, more than float32 "
                                         r"holds exactly \(24\)"):
        HSoftmax(exp_bits=16, inv_bits=14, name="sm")(HQuantize()(inp))
    proxy = hgq.to_proxy_model(softmax_model("stable")[0])
    with pytest.raises(ValueError, match=r"hls4ml has no io_stream implementation of layer 'sm' \(Softmax\)"):
        convert_to_hls4ml(proxy, tmp_path / "prj", io_type="io_stream")
