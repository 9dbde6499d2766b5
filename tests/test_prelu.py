"""HPReLU: BOPs counted slope by slope with shared axes, the type rule (``prelu_kif``, also hls4ml's) holding every
output of the exported PReLU, the cost report, bad ``shared_axes`` refused by name. Its layer checks (training,
proxy, hls4ml) are in ``test_layers.py``, io_stream in ``test_embedding.py``; the float layer's mapping in
``test_quantize_model.py``."""

import keras
import numpy as np
import pytest

import hgq
from hgq.cost import layer_costs
from hgq.cost.types import output_kif
from hgq.families.activation.prelu import prelu_kif
from hgq.layers import HPReLU, HQuantize
from hgq.quantizer.types import as_numpy


def prelu_model(shared_axes, seed=0):
    """HQuantize -> HPReLU on (4, 3) features, random widths and slopes, calibrated; returns model, layer, data."""
    keras.utils.set_random_seed(seed)
    inp = keras.Input((4, 3))
    prelu = HPReLU(shared_axes=shared_axes, name="prelu")
    model = keras.Model(inp, prelu(HQuantize(paq_conf={"init_bw": 4}, name="q")(inp)))
    rng = np.random.default_rng(seed)
    for layer in model.layers[1:]:
        for q in layer.quantizers():
            q.fbits.assign(rng.integers(0, 5, size=q.fbits.shape).astype("float32"))
    magnitude = rng.uniform(0.5, 2.0, size=prelu.alpha.shape)  # no slope rounds to zero; signs alternate
    signs = (-1.0) ** np.arange(magnitude.size).reshape(magnitude.shape)
    prelu.alpha.assign((magnitude * signs).astype("float32"))
    x = rng.normal(size=(1000, 4, 3)).astype("float32") * 4
    hgq.trace_minmax(model, x)
    return model, prelu, x


@pytest.mark.parametrize("shared_axes", [None, [1], [1, 2]])
def test_bops_are_each_slope_times_the_inputs_it_multiplies(shared_axes):
    model, prelu, _ = prelu_model(shared_axes)
    in_bits = as_numpy(prelu.input_bits())[0]                     # (4, 3)
    a_bits = np.broadcast_to(as_numpy(prelu.kq.bits(prelu.quantized_alpha(False))), (4, 3))
    assert prelu.alpha.shape == tuple(1 if shared_axes and d + 1 in shared_axes else n for d, n in enumerate((4, 3)))
    assert prelu.bops() == float(np.sum(in_bits * a_bits)) > 0
    costs = layer_costs(prelu, [tuple(as_numpy(a) for a in model.get_layer("q").output_kif())])
    assert costs.bops == prelu.bops() and costs.params == int(np.prod(prelu.alpha.shape))
    assert costs.macs == 12 and costs.lut_est + costs.dsp_est > 0


def test_the_type_rule_holds_every_output_of_the_exported_prelu():
    model, _, x = prelu_model([2])
    proxy = hgq.to_proxy_model(model)
    plain = proxy.get_layer("prelu")
    assert isinstance(plain, keras.layers.PReLU) and plain.alpha.shape == (4, 3)  # one slope per element
    in_kif = tuple(np.broadcast_to(as_numpy(a), (1, 4, 3)) for a in model.get_layer("q").output_kif())
    k, i, f = output_kif(plain, [in_kif], (4, 3))
    raw = keras.Model(proxy.input, plain.output).predict(x.astype(np.float64) * 3, verbose=0)  # overflowing too
    assert np.all(raw >= -k * 2.0**i) and np.all(raw <= 2.0**i - 2.0**-f)
    assert np.all(raw * 2.0**f == np.round(raw * 2.0**f))
    assert np.any(k == 1) and np.any(raw < 0)


def test_shared_axes_must_be_feature_axes():
    with pytest.raises(ValueError, match=r"HPReLU 'p': shared_axes=\[3\] names axis 3, which input shape "
                                         r"\(None, 4, 3\) lacks"):
        HPReLU(shared_axes=3, name="p")(keras.Input((4, 3)))


def test_the_type_keeps_the_input_integer_bits():
    """x in {-1/16, 0} times 1/16 is {-1/256, 0}, which a truncating quantizer of step 1/16 floors to -1/16: hls4ml's
    bit-exact pass would narrow that quantizer to no bits from a type of integer bits -8, so the rule keeps -4 (the
    grid test's cover-factor case caught it through hls4ml)."""
    k, i, f = prelu_kif((np.array([1.0]), np.array([-4.0]), np.array([4.0])), np.array([0.0625]))
    assert (k[0], i[0], f[0]) == (1.0, -4.0, 8.0)
    k, i, f = prelu_kif((np.array([0.0]), np.array([0.0]), np.array([0.0])), np.array([0.5]))  # zero width stays
    assert (k[0], i[0], f[0]) == (0.0, 0.0, 0.0)
