"""HMultiHeadAttention beyond the common layer checks: self- and cross-attention bit-exact through hls4ml (its
parts' proxies in sequence), its costs the sum of its parts', beta reaching every part, and its refusals."""

import keras
import numpy as np
import pytest

import hgq
from hgq.layers import HMultiHeadAttention, HQuantize
from hgq.profiling import profile
from hgq.proxy import convert_to_hls4ml

from bitexact import SideBySide, check_bit_exact


def attention_model(cross=False, seed=0, **kwargs):
    """Self-attention on 4 tokens of 6 features, or cross-attention of 3 query tokens on 5 key/value tokens (keys
    and values from different inputs); trained a step, calibrated."""
    keras.utils.set_random_seed(seed)
    shapes = [(3, 6), (5, 4), (5, 5)] if cross else [(4, 6)]
    inputs = [keras.Input(s) for s in shapes]
    quantized = [HQuantize(paq_conf={"init_bw": 4}, name=f"q{n}")(x) for n, x in enumerate(inputs)]
    layer = HMultiHeadAttention(num_heads=2, key_dim=3, beta=1e-5, name="mha", **kwargs)
    out = layer(quantized[0], quantized[1], key=quantized[2]) if cross else layer(quantized[0], quantized[0])
    model = keras.Model(inputs if cross else inputs[0], out)
    rng = np.random.default_rng(seed)
    x = [rng.normal(size=(1000, *s)).astype("float32") for s in shapes]
    x = x if cross else x[0]
    model.compile(keras.optimizers.Adam(0.01), "mse")
    model.fit(x, np.zeros((1000, *model.output_shape[1:])), epochs=1, batch_size=128, verbose=0)
    hgq.trace_minmax(model, x)
    return model, layer, x


#: (cross, kwargs) of the bit-exact cases
CASES = [(False, {}), (True, {"value_dim": 2, "output_shape": 4}),
         (False, {"softmax": {"implementation": "latency", "input_type": (1, 2, 3)}})]
IDS = ["self", "cross", "latency-softmax"]


def proxy_case(cross, **kwargs):
    model, _, x = attention_model(cross, **kwargs)
    return model, hgq.to_proxy_model(model), x


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    """Every bit-exact case of this module, compiled side by side as one hls4ml project."""
    projects = SideBySide(tmp_path_factory.mktemp("test_attention"))
    for case, (cross, kwargs) in zip(IDS, CASES):
        projects.add(case, lambda c=cross, k=kwargs: proxy_case(c, **k))
    return projects


@pytest.mark.hls4ml
@pytest.mark.xdist_group("test_attention")  # the worker that compiles the shared project checks every case
@pytest.mark.parametrize("cross, kwargs", CASES, ids=IDS)
def test_bit_exact_with_hls4ml(cross, kwargs, projects):
    model, proxy, x, part = projects(IDS[CASES.index((cross, kwargs))])
    names = {layer.name for layer in proxy.layers}
    assert {f"mha_{part}" for part in ("query", "key", "value", "scores", "softmax", "context", "output")} <= names
    check_bit_exact(proxy, x, part, model=model, scales=(2.5, 3.0))


def test_costs_are_the_sum_of_its_parts():
    model, layer, x = attention_model()
    parts = layer.parts()
    assert layer.bops() == sum(part.bops() for part in parts) == hgq.layer_bops(model)["mha"] > 0
    record = next(r for r in profile(model).records if r.name == "mha")
    assert record.bops == layer.bops()
    # four projections of (6 x 2 x 3) weights and 2 x 3 (6) biases; the softmax's tables of 2^8 and 2^10 entries
    assert record.params == 4 * (36 + 6) + 2**8 + 2**10
    assert record.macs == sum(r for r in (
        3 * 4 * 6 * 2 * 3,  # q, k, v projections: 4 tokens x (6 x 2 x 3) weights
        2 * 4 * 4 * 3,      # scores: per head, 4 x 4 products of 3 terms
        2 * 4 * 4,          # softmax: one product per weight
        2 * 4 * 3 * 4,      # context: per head, 4 x 3 outputs of 4 terms
        4 * 2 * 3 * 6))     # output projection: 4 tokens x (2 x 3 x 6) weights
    assert len(hgq.cost.kernel_views(layer)) == 4


def test_beta_reaches_every_part():
    model, layer, _ = attention_model()
    hgq.set_beta(model, 3e-4)
    assert all(part.beta == pytest.approx(3e-4) for part in layer.parts())


def test_refusals(tmp_path):
    q = HQuantize()(keras.Input((4, 6)))
    mask = keras.Input((4, 4))
    with pytest.raises(ValueError, match="HMultiHeadAttention 'a': attention masks, causal masks and "
                                         "return_attention_scores are not supported"):
        HMultiHeadAttention(2, 3, name="a")(q, q, attention_mask=mask)
    with pytest.raises(ValueError, match=r"HMultiHeadAttention 'b': the query must be a sequence \(batch, tokens, "
                                         r"features\), got shape \(None, 6\)"):
        flat = HQuantize()(keras.Input((6,)))
        HMultiHeadAttention(2, 3, name="b")(flat, flat)
    model, _, _ = attention_model()
    with pytest.raises(ValueError, match=r"hls4ml has no io_stream implementation of layer 'mha_query'"):
        convert_to_hls4ml(hgq.to_proxy_model(model), tmp_path / "prj", io_type="io_stream")


def test_pruning_refuses_it_by_name():
    from hgq.optimization.attributes import get_attributes_from_keras_model

    model, _, _ = attention_model()
    with pytest.raises(ValueError, match=r"layer 'mha' \(HMultiHeadAttention\) has 4 kernels; the optimization prunes "
                                         r"layers of one kernel"):
        get_attributes_from_keras_model(model)
