"""The layer specs (hgq.specs): lookup along the MRO, a user's own spec, refusals by name, a spec for every public
layer, the QKeras converter table, and the type rule of linear layers against hls4ml's interval arithmetic."""

import keras
import numpy as np
import pytest

import hgq
import hgq.layers
from hgq.families.registry import OwnTypes
from hgq.layers import HConv2D, HDenseBatchNorm, HQuantize
from hgq.profiling import profile
from hgq.proxy import FixedPointQuantizer, UnaryLUT
from hgq.proxy_layers.precision import PROXY_DTYPE
from hgq.qkeras import converters as qkeras_converters
from hgq.specs import (CostRule, LayerSpec, ProxyRule, TypeRule, UnsupportedLayerError, find_spec, register,
                       spec_of)
from hgq.families.kernel.spec import ConvSpec, DenseSpec, HConvSpec, HDenseSpec, HKernelSpecMixin


class Doubler(keras.layers.Layer):
    def call(self, x):
        return 2.0 * x


class SubDoubler(Doubler):
    pass


class Unknown(keras.layers.Layer):
    def call(self, x):
        return x


@register(keras.layers.Rescaling)
class RescalingSpec(LayerSpec):
    """Scaling by a power of two moves the binary point (the proxy model holds such layers: every layer of a proxy
    needs a spec too, for its types)."""

    def output_kif(self, layer, input_kifs):
        if input_kifs[0] is None:
            return None
        k, i, f = input_kifs[0]
        shift = np.log2(layer.scale)
        return k, i + shift, f - shift


@register(Doubler)
class DoublerSpec(LayerSpec):
    """A user's layer: doubles the values (one integer bit more, one fractional bit less), exported as a Rescaling."""

    def output_kif(self, layer, input_kifs):
        k, i, f = input_kifs[0]
        return k, i + 1, f - 1

    def convert(self, layer, x, ctx):
        return keras.layers.Rescaling(2.0, name=layer.name, dtype=PROXY_DTYPE)(x)


class Halver(keras.layers.Layer):
    def call(self, x):
        return 0.5 * x


@register(Halver)
class HalverSpec(TypeRule, CostRule):
    """A spec that plays two roles only: its types and costs are known, it has no proxy."""

    def output_kif(self, layer, input_kifs):
        k, i, f = input_kifs[0]
        return k, i - 1, f + 1


def doubler_model(layer_cls=Doubler):
    inp = keras.Input((3,))
    model = keras.Model(inp, layer_cls(name="twice")(HQuantize(name="q")(inp)))
    x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    return model, x


@pytest.mark.once
def test_lookup_follows_the_mro():
    assert isinstance(find_spec(SubDoubler()), DoublerSpec) and find_spec(SubDoubler) is find_spec(Doubler)
    assert type(find_spec(HDenseBatchNorm(4))) is HDenseSpec  # the fused layer is an HDense
    assert (type(find_spec(keras.layers.Dense(4))), type(find_spec(HConv2D(2, 3)))) == (DenseSpec, HConvSpec)
    assert type(find_spec(keras.layers.Conv1D(2, 3))) is ConvSpec
    assert find_spec(Unknown()) is None


@pytest.mark.once
def test_every_public_layer_and_proxy_layer_has_a_spec():
    public = [getattr(hgq.layers, name) for name in hgq.layers.__all__ if name != "HLayer"]
    missing = [cls.__name__ for cls in (*public, FixedPointQuantizer, UnaryLUT) if find_spec(cls) is None]
    assert missing == []
    # an H-layer's spec reads its own output quantizer, never the rule of the plain layer it exports to
    h_layers = [cls for cls in public if issubclass(cls, hgq.layers.HLayer)]
    assert all(isinstance(find_spec(cls), (OwnTypes, HKernelSpecMixin)) for cls in h_layers)


def test_a_registered_spec_exports_and_counts_a_users_layer():
    model, x = doubler_model()
    hgq.trace_minmax(model, x)
    proxy = hgq.to_proxy_model(model)
    assert isinstance(proxy.get_layer("twice"), keras.layers.Rescaling)
    assert np.array_equal(proxy.predict(x, verbose=0), model.predict(x, verbose=0))
    q, twice = profile(model).records[1:]
    assert (twice.bops, twice.params) == (0.0, 0)
    assert twice.act_bits_mean == q.act_bits_mean  # one integer bit more, one fractional bit less


def fit_with_calibrated_bops(model, x, _):
    model.compile("adam", "mse")
    model.fit(x, x, epochs=1, verbose=0, callbacks=[hgq.CalibratedBOPs(x)])


#: who refuses a model, given the model, its data and a folder to write into
REFUSERS = {"trace_minmax": lambda model, x, _: hgq.trace_minmax(model, x),
            "to_proxy_model": lambda model, x, _: hgq.to_proxy_model(model),
            "profile": lambda model, x, _: profile(model),
            "CalibratedBOPs": fit_with_calibrated_bops,
            "fit_pareto": lambda model, x, folder: hgq.fit_pareto(model, x, x, (x, x), "mse", path=str(folder))}


@pytest.mark.parametrize("who", REFUSERS)
def test_a_layer_without_a_spec_is_refused_by_name(who, tmp_path):
    model, x = doubler_model(Unknown)
    before = [np.array(w) for w in model.get_weights()]
    match = rf"{who}: layer 'twice' of type Unknown is not supported \(hgq has no spec for it\)"
    with pytest.raises(UnsupportedLayerError, match=match):
        REFUSERS[who](model, x, tmp_path / "front")
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights())), "refused before training"
    assert not (tmp_path / "front").exists()
    with pytest.raises(UnsupportedLayerError, match="layer 'u' of type Unknown"):
        spec_of(Unknown(name="u"), "who")


def test_a_spec_plays_only_the_roles_it_derives_from():
    model, x = doubler_model(Halver)
    hgq.trace_minmax(model, x)
    q, half = profile(model).records[1:]  # the cost model asks the type and cost roles
    assert (half.bops, half.params) == (0.0, 0) and half.act_bits_mean == q.act_bits_mean
    assert find_spec(Halver, TypeRule) is find_spec(Halver) and find_spec(Halver, ProxyRule) is None
    match = (r"to_proxy_model: layer 'twice' of type Halver is not supported \(hgq has a spec without the "
             r"ProxyRule role for it\)")
    with pytest.raises(UnsupportedLayerError, match=match):
        hgq.to_proxy_model(model)


@pytest.mark.once
def test_qkeras_layers_are_converted_by_class_name_and_unknown_ones_named():
    ctx = qkeras_converters.QKerasContext("from_qkeras", aggressive=False)
    saved = qkeras_converters.SavedLayer("QBatchNormalization", {"name": "bn"}, [])
    with pytest.raises(ValueError, match=r"layer 'bn' \(QBatchNormalization\): layer class 'QBatchNormalization' is "
                                         r"not supported; supported: .*QDense"):
        qkeras_converters.convert(saved, [], ctx)
    inp = keras.Input((3,), dtype=PROXY_DTYPE)
    with pytest.raises(ValueError, match="fed by a tensor of unknown fixed-point type"):
        qkeras_converters.convert(qkeras_converters.SavedLayer("Flatten", {"name": "f"}, []), [inp], ctx)
    y = qkeras_converters.convert(qkeras_converters.SavedLayer("Flatten", {"name": "f"}, []), [ctx.known(inp)], ctx)
    assert id(y) in ctx.typed


@pytest.mark.once
@pytest.mark.parametrize("kind", ["dense", "dense_sequence", "conv_same", "conv_strided"])
def test_linear_type_rule_is_hls4mls_interval_arithmetic(kind):
    """hgq.quantizer.intervals.linear_kif against hls4ml's own QIntervalArray (hls4ml.utils.qinterval), on random
    heterogeneous types (zero widths included) and weights (zeros included)."""
    from hls4ml.utils.qinterval import QIntervalArray

    from hgq.families.kernel.geometry import ConvGeometry, DenseGeometry
    from hgq.quantizer.intervals import linear_kif

    rng = np.random.default_rng(["dense", "dense_sequence", "conv_same", "conv_strided"].index(kind))
    shape, geometry, kernel_shape = {
        "dense": ((6,), DenseGeometry((6,)), (6, 4)),
        "dense_sequence": ((3, 5), DenseGeometry((3, 5)), (5, 2)),
        "conv_same": ((5, 4, 2), ConvGeometry((5, 4, 2), (3, 2), (1, 1), "same"), (3, 2, 2, 3)),
        "conv_strided": ((7, 2), ConvGeometry((7, 2), (3,), (2,), "valid"), (3, 2, 3)),
    }[kind]
    k = rng.integers(0, 2, shape).astype(float)
    i = rng.integers(-2, 4, shape).astype(float)
    f = rng.integers(-1, 5, shape).astype(float)
    dead = (k + i + f <= 0) | (rng.uniform(size=shape) < 0.1)
    k, i, f = (np.where(dead, 0.0, a) for a in (k, i, f))
    kernel = np.round(rng.normal(size=kernel_shape) * 8) / 8 * (rng.uniform(size=kernel_shape) > 0.2)
    bias = np.round(rng.normal(size=kernel_shape[-1]) * 16) / 16
    got = linear_kif(geometry, (k, i, f), kernel, bias)
    columns = QIntervalArray.from_kif(*(geometry.columns(a)[0] for a in (k, i, f)))
    expected = (columns @ geometry.kernel_matrix(kernel)[0] + bias).to_kif()
    for ours, theirs in zip(got, expected):
        assert np.array_equal(ours, geometry.output_features(np.asarray(theirs, float)[None])), kind
