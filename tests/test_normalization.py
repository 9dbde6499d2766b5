"""HBatchNormalization and HEinsumDenseBatchNorm beyond the common layer checks: statistics as Keras computes them,
the fused einsum math, BOPs, the proxy's BatchNormalization computing exactly ``x * s + o``, hls4ml's type rule of
the plain layer, bit-exactness through hls4ml (strategies, io_stream, SAT) and the refusals.

The hls4ml cases are compiled side by side, one project per io type and strategy (``bitexact.SideBySide``, the
``normalization_projects`` fixture); the weights hls4ml holds are read from each case's own conversion."""

import functools

import keras
import numpy as np
import pytest

import hgq
from hgq.cost import layer_costs
from hgq.layers import HBatchNormalization, HDense, HEinsumDenseBatchNorm, HQuantize
from hgq.proxy import convert_to_hls4ml
from hgq.families.normalization.proxy import BatchNormalization
from hgq.quantizer.types import as_numpy, total_bits
from hgq.specs import spec_of
from hgq.families.normalization.spec import PROXY_EPSILON, PROXY_VARIANCE, hls4ml_scale_and_bias

from bitexact import SideBySide, check_bit_exact


def _fit(model, x, seed=0):
    y = np.random.default_rng(seed).normal(size=(len(x), *model.output_shape[1:])).astype("float32")
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    model.fit(x, y, epochs=2, batch_size=64, verbose=0)
    rng = np.random.default_rng(seed + 1)
    for v in model.trainable_weights:  # heterogeneous widths (1 to 4 fractional bits), as training would make them
        if v.path.endswith("fractional_bits"):
            v.assign(rng.integers(1, 5, v.shape).astype(v.dtype))
    hgq.trace_minmax(model, x)
    return model, x


@functools.lru_cache(maxsize=None)
def trained_bn(shape, homogeneous=False):
    """HQuantize -> HBatchNormalization -> HDense, trained (statistics, bn_gamma, bn_beta move) and calibrated."""
    keras.utils.set_random_seed(0)
    paq = {"skip_dims": "all"} if homogeneous else {}
    inp = keras.Input(shape)
    x = HQuantize(paq_conf={"init_bw": 4, **paq}, name="q")(inp)
    x = HBatchNormalization(momentum=0.9, beta=1e-5, kq_conf={"init_bw": 4}, paq_conf=paq, name="bn")(x)
    model = keras.Model(inp, HDense(3, beta=1e-5, paq_conf=paq, name="out")(x))
    x = (np.random.default_rng(1).normal(size=(1000, *shape)) * 2 + 0.5).astype("float32")
    return _fit(model, x)


#: (equation, input features, output_shape, bias_axes): a bias spanning two output axes; the same with the kernel's
#: axes in the other order; a bias on an inner output axis (bias shape (4, 1)).
EINSUMS = [("abc,cde->abde", (3, 5), (3, 2, 4), "de"), ("abc,ced->abde", (3, 5), (3, 2, 4), "de"),
           ("abc,cd->adb", (3, 5), (4, 3), "d")]


@functools.lru_cache(maxsize=None)
def trained_einsum(n):
    equation, shape, output_shape, bias_axes = EINSUMS[n]
    keras.utils.set_random_seed(0)
    inp = keras.Input(shape)
    layer = HEinsumDenseBatchNorm(equation, output_shape, bias_axes=bias_axes, momentum=0.9, beta=1e-5, name="e")
    model = keras.Model(inp, layer(HQuantize(paq_conf={"init_bw": 4}, name="q")(inp)))
    return _fit(model, (np.random.default_rng(1).normal(size=(1000, *shape)) * 2 + 0.5).astype("float32"))


def test_statistics_and_outputs_follow_keras():
    """Training moves the moving statistics as Keras' BatchNormalization; outputs agree up to quantization (wide)."""
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(256, 5, 3)) * 3 + 1).astype("float32")
    wide = {"init_bw": 16}
    inp = keras.Input((5, 3))
    q = HQuantize(paq_conf=wide)
    bn = HBatchNormalization(momentum=0.8, kq_conf=wide, paq_conf=wide)
    model = keras.Model(inp, bn(q(inp)))
    ref = keras.layers.BatchNormalization(momentum=0.8)
    xq = q(x)
    for training in (True, False):
        np.testing.assert_allclose(np.asarray(model(x, training=training)), np.asarray(ref(xq, training=training)),
                                   atol=2e-3)
    np.testing.assert_allclose(np.asarray(bn.moving_mean), np.asarray(ref.moving_mean), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(bn.moving_variance), np.asarray(ref.moving_variance), rtol=1e-5)
    bn.trainable = False  # as in Keras: the moving statistics, also while training
    before = np.asarray(bn.moving_mean).copy()
    np.testing.assert_allclose(np.asarray(model(x, training=True)), np.asarray(ref(xq, training=False)), atol=2e-3)
    np.testing.assert_array_equal(np.asarray(bn.moving_mean), before)


def test_bops_one_multiplication_per_element():
    model, _ = trained_bn((4, 4, 3))
    bn = model.get_layer("bn")
    in_bits, w_bits = as_numpy(bn.input_bits()), as_numpy(bn.weight_bits())
    assert w_bits.shape == (3,) and bn.bops() == float(np.sum(in_bits * w_bits)) > 0
    costs = layer_costs(bn, [tuple(as_numpy(a) for a in model.get_layer("q").output_kif())])
    assert (costs.bops, costs.params, costs.macs) == (bn.bops(), 6, 48)


@pytest.mark.parametrize("n", range(len(EINSUMS)))
def test_einsum_fusion_math(n):
    equation, shape, output_shape, bias_axes = EINSUMS[n]
    rng = np.random.default_rng(n)
    layer = HEinsumDenseBatchNorm(equation, output_shape, bias_axes=bias_axes)
    layer.build((None, *shape))
    stat = tuple(layer.moving_mean.shape)
    assert stat == tuple(layer.bias.shape)
    for v in (layer.bn_gamma, layer.moving_mean, layer.bias):
        v.assign(rng.normal(size=stat).astype("float32"))
    layer.moving_variance.assign(rng.uniform(0.2, 3.0, stat).astype("float32"))
    s = np.asarray(layer.bn_gamma) / np.sqrt(np.asarray(layer.moving_variance) + layer.epsilon)
    ker = equation.split(",")[1].split("->")[0]
    letters = [c for c in equation.split("->")[1][-len(stat):] if c in bias_axes]
    kernel, bias = layer.fused_kernel_and_bias()
    expected = np.einsum(f"{ker},{''.join(letters)}->{ker}", np.asarray(layer.kernel), s.reshape(
        [n for n, c in zip(stat, equation.split("->")[1][-len(stat):]) if c in bias_axes]))
    np.testing.assert_allclose(np.asarray(kernel), expected, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(bias), (np.asarray(layer.bias) - np.asarray(layer.moving_mean)) * s +
                               np.asarray(layer.bn_beta), rtol=1e-5, atol=1e-6)
    # batch statistics: per element of the bias's shape, over every other axis of the raw output
    x = rng.normal(size=(64, *shape)).astype("float32")
    z = np.einsum(equation, x, np.asarray(layer.kernel)) + np.asarray(layer.bias)
    axes = tuple(a for a in range(z.ndim) if a < z.ndim - len(stat) or stat[a - z.ndim + len(stat)] == 1)
    mean, var = layer._batch_statistics(keras.ops.convert_to_tensor(x))
    np.testing.assert_allclose(np.asarray(mean), z.mean(axis=axes).reshape(stat), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.asarray(var), z.var(axis=axes).reshape(stat), rtol=1e-4)


@pytest.mark.parametrize("cls", [BatchNormalization, keras.layers.BatchNormalization], ids=["proxy", "keras"])
def test_proxy_batchnorm_is_exactly_x_times_s_plus_o(cls):
    """The proxy's weights make its float64 computation (Keras' formula) and hls4ml's scale and bias exactly
    x * s + o, with wide operands: 24-bit inputs, 20-bit scales, 30-bit offsets (every product and sum fits 53 bits).
    Keras' own layer computes float64 in float32 on JAX: the proxy holds the subclass that does not."""
    if cls is keras.layers.BatchNormalization and keras.backend.backend() != "tensorflow":
        pytest.skip("keras.layers.BatchNormalization computes a float64 input in float32 outside TensorFlow")
    rng = np.random.default_rng(0)
    s = rng.integers(-2**19, 2**19, 7) * 2.0**-12
    o = rng.integers(-2**29, 2**29, 7) * 2.0**-20
    x = rng.integers(-2**23, 2**23, (1000, 7)) * 2.0**-10
    bn = cls(epsilon=PROXY_EPSILON, dtype="float64")
    bn.build((None, 7))
    bn.set_weights([s, o, np.zeros(7), np.full(7, PROXY_VARIANCE)])
    assert np.float64(PROXY_VARIANCE) + np.float64(PROXY_EPSILON) == 1.0
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(bn(x, training=False)), x * s + o)
    scale, bias = hls4ml_scale_and_bias(bn)
    np.testing.assert_array_equal(scale, s)
    np.testing.assert_array_equal(bias, o)


@pytest.mark.parametrize("shape", [(6,), (4, 4, 3)])
def test_proxy_holds_the_quantized_scale_and_offset(shape):
    model, x = trained_bn(shape)
    bn = model.get_layer("bn")
    proxy = hgq.to_proxy_model(model)
    plain = proxy.get_layer("bn")
    assert type(plain) is BatchNormalization and plain.epsilon == PROXY_EPSILON
    gamma, beta, mean, var = plain.get_weights()
    s, o, rounding = bn.exported_kernel_and_bias()
    np.testing.assert_array_equal(gamma, s)
    np.testing.assert_array_equal(beta, o)
    assert np.all(mean == 0) and np.all(var == PROXY_VARIANCE)
    np.testing.assert_array_equal(s, np.asarray(bn.quantized_kernel(False)))
    # one output step per channel (rank 2): the offset carries the half step and the quantizer truncates
    half = 2.0 ** -as_numpy(bn.bias_fractional_bits()) if rounding == "TRN" else 0.0
    assert rounding == ("TRN" if len(shape) == 1 else "RND")  # the widths differ between positions (rank 4)
    np.testing.assert_array_equal(o, as_numpy(bn.quantized_bias()) + half)
    assert proxy.get_layer("bn_q").RND == rounding
    np.testing.assert_array_equal(proxy.predict(x, verbose=0), model.predict(x, verbose=0))


def test_plain_batchnorm_type_rule_is_hls4mls():
    """The plain layer's output types equal hls4ml's rule (``QIntervalArray(x) * scale + bias``), zero scales, zero
    biases and zero-width inputs included."""
    from hls4ml.utils.qinterval import QIntervalArray

    rng = np.random.default_rng(0)
    inp = keras.Input((3, 4), dtype="float64")
    bn = keras.layers.BatchNormalization(epsilon=PROXY_EPSILON, dtype="float64")
    keras.Model(inp, bn(inp))
    s = rng.integers(-8, 9, 4) * 2.0 ** rng.integers(-4, 3, 4)
    s[1] = 0.0
    o = rng.integers(-16, 17, 4) * 2.0 ** -rng.integers(0, 6, 4)
    o[2] = 0.0
    bn.set_weights([s, o, np.zeros(4), np.full(4, PROXY_VARIANCE)])
    k, i = rng.integers(0, 2, (1, 3, 4)), rng.integers(-2, 5, (1, 3, 4))
    f = np.maximum(rng.integers(0, 5, (1, 3, 4)), 1 - k - i)  # at least one bit
    i[0, 0, 0], f[0, 0, 0], k[0, 0, 0] = 0, 0, 0  # a zero-width input element
    got = spec_of(bn, "test").output_kif(bn, [(k, i, f)])
    expected = (QIntervalArray.from_kif(k[0], i[0], f[0]) * s + o).to_kif()
    live = total_bits(got)[0] > 0
    assert np.array_equal(live, total_bits(expected) > 0)
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(np.where(live, a[0], 0), np.where(live, b, 0))


def test_float_model_batchnorm_costs():
    inp = keras.Input((4, 4, 3))
    last, first = keras.layers.BatchNormalization(), keras.layers.BatchNormalization(axis=1)
    keras.Model(inp, first(last(inp)))
    costs = layer_costs(last, [None])
    assert (costs.params, costs.macs, costs.bops) == (6, 48, None)
    assert layer_costs(first, [None]).params == first.count_params()
    assert spec_of(first, "test").output_kif(first, [None]) is None
    assert "only the last axis" in spec_of(first, "test").hls4ml_refusal(first)



def test_structured_reduction_passes_through_hbatchnorm():
    """Channels removed upstream are removed from the normalization's statistics, widths and ranges too."""
    from hgq.optimization.keras.reduction import reduce_model

    keras.utils.set_random_seed(2)
    model = keras.Sequential([keras.Input((16,)), HQuantize(), HDense(8, activation="relu", name="d"),
                              HBatchNormalization(name="bn"), HDense(3, name="out")])
    x = np.random.default_rng(0).uniform(-1, 1, size=(64, 16)).astype("float32")
    hgq.trace_minmax(model, x)
    weights = model.get_layer("d").get_weights()  # kernel, bias, then its quantizers' and beta
    weights[0][:, [0, 3]], weights[1][[0, 3]] = 0, 0
    model.get_layer("d").set_weights(weights)
    small = reduce_model(model)
    assert small.get_layer("d").units == 6 and small.get_layer("bn").bn_gamma.shape == (6,)
    np.testing.assert_array_equal(small.predict(x, verbose=0), model.predict(x, verbose=0))


BN_CASES = [((6,), False, "io_parallel", "latency", True), ((6,), False, "io_parallel", "latency", False),
            ((4, 4, 3), False, "io_parallel", "distributed_arithmetic", True),
            ((4, 4, 3), True, "io_stream", "latency", True), ((4, 4, 3), True, "io_stream", "latency", False)]


EINSUM_CASES = [(0, "distributed_arithmetic", True), (0, "latency", False), (1, "latency", True),
                (2, "latency", True)]


def bn_case(shape, homogeneous, aggressive):
    model, x = trained_bn(shape, homogeneous)
    return model, hgq.to_proxy_model(model, aggressive=aggressive), x


def einsum_case(n, aggressive):
    model, x = trained_einsum(n)
    return model, hgq.to_proxy_model(model, aggressive=aggressive), x


@pytest.fixture(scope="module")
def normalization_projects(tmp_path_factory):
    """Every case of ``BN_CASES`` and ``EINSUM_CASES`` side by side: one hls4ml project per io type and strategy."""
    projects = SideBySide(tmp_path_factory.mktemp("normalization"))
    for shape, homogeneous, io_type, strategy, aggressive in BN_CASES:
        projects.add(("bn", shape, homogeneous, aggressive), functools.partial(bn_case, shape, homogeneous, aggressive),
                     io_type, strategy=strategy)
    for n, strategy, aggressive in EINSUM_CASES:
        projects.add(("einsum", n, aggressive), functools.partial(einsum_case, n, aggressive), "io_parallel",
                     strategy=strategy)
    return projects


@pytest.mark.hls4ml
@pytest.mark.xdist_group("test_normalization")  # the worker that compiles the shared projects checks every case
@pytest.mark.parametrize("shape, homogeneous, io_type, strategy, aggressive", BN_CASES)
def test_hbatchnorm_bit_exact(shape, homogeneous, io_type, strategy, aggressive, normalization_projects, tmp_path):
    model, proxy, x, part = normalization_projects(("bn", shape, homogeneous, aggressive), io_type, strategy=strategy)
    # the weights of the case's own project (converted: the conversion sets them, the compile only writes them)
    node = convert_to_hls4ml(proxy, tmp_path / "prj", io_type, strategy=strategy).graph["bn"]
    gamma, beta = proxy.get_layer("bn").get_weights()[:2]
    np.testing.assert_array_equal(node.weights["scale"].data.ravel(), gamma)
    np.testing.assert_array_equal(node.weights["bias"].data.ravel(), beta)
    check_bit_exact(proxy, x, part, model=model, scales=(2.5, 3.0))


@pytest.mark.hls4ml
@pytest.mark.xdist_group("test_normalization")
@pytest.mark.parametrize("n, strategy, aggressive", EINSUM_CASES)
def test_einsum_batchnorm_bit_exact(n, strategy, aggressive, normalization_projects):
    model, proxy, x, part = normalization_projects(("einsum", n, aggressive), "io_parallel", strategy=strategy)
    assert model.get_layer("e").bops() > 0
    assert type(proxy.get_layer("e")) is keras.layers.EinsumDense
    check_bit_exact(proxy, x, part, model=model, scales=(2.5, 3.0))


def test_refusals():
    with pytest.raises(ValueError, match=r"HBatchNormalization 'bn': axis=1 is not supported.*axis=-1"):
        HBatchNormalization(axis=1, name="bn")
    with pytest.raises(ValueError, match="renorm"):
        HBatchNormalization(renorm=True)
    with pytest.raises(ValueError, match="momentum"):
        HBatchNormalization(momentum=1.0)
    with pytest.raises(ValueError, match="epsilon"):
        HBatchNormalization(epsilon=0.0)
    with pytest.raises(ValueError, match=r"HEinsumDenseBatchNorm 'e': bias_axes is required"):
        HEinsumDenseBatchNorm("abc,cd->abd", (3, 4), name="e")
    with pytest.raises(ValueError, match=r"bias_axes='bd' names b, not a letter of the kernel 'cd'"):
        HEinsumDenseBatchNorm("abc,cd->abd", (3, 4), bias_axes="bd", name="e")
    with pytest.raises(ValueError, match="activation"):
        HEinsumDenseBatchNorm("abc,cd->abd", (3, 4), bias_axes="d", activation="tanh")
