"""HDenseBatchNorm / HConv1DBatchNorm / HConv2DBatchNorm: fusion math, training, export, hls4ml, serialization."""

import functools

import keras
import numpy as np
import pytest

import hgq
from hgq.layers import (HConv1DBatchNorm, HConv2DBatchNorm, HDense, HDenseBatchNorm, HQuantize, PFlatten,
                        PMaxPooling2D)
from hgq.proxy import FixedPointQuantizer

from bitexact import SideBySide, check_bit_exact

HUGE = {"init_bw": 20}  # quantization negligible next to the tolerances below


def _set_bn_state(layer, rng):
    c = layer.kernel.shape[-1]
    layer.bn_gamma.assign(rng.uniform(0.5, 2.0, c).astype("float32"))
    layer.bn_beta.assign(rng.normal(size=c).astype("float32"))
    layer.moving_mean.assign(rng.normal(size=c).astype("float32"))
    layer.moving_variance.assign(rng.uniform(0.2, 3.0, c).astype("float32"))
    layer.bias.assign(rng.normal(size=c).astype("float32"))


@pytest.mark.parametrize("kind", ["dense", "conv1d", "conv2d"])
def test_inference_equals_float_batchnorm(kind):
    rng = np.random.default_rng(0)
    if kind == "dense":
        shape, layer = (6,), HDenseBatchNorm(5, kq_conf=HUGE, paq_conf=HUGE)
        ref = keras.layers.Dense(5)
    elif kind == "conv1d":
        shape, layer = (10, 2), HConv1DBatchNorm(3, 3, padding="same", kq_conf=HUGE, paq_conf=HUGE)
        ref = keras.layers.Conv1D(3, 3, padding="same")
    else:
        shape, layer = (6, 6, 2), HConv2DBatchNorm(4, 3, kq_conf=HUGE, paq_conf=HUGE)
        ref = keras.layers.Conv2D(4, 3)
    x = rng.normal(size=(64, *shape)).astype("float32")
    layer.build((None, *shape))
    ref.build((None, *shape))
    _set_bn_state(layer, rng)
    ref.set_weights([layer.kernel.numpy(), layer.bias.numpy()])
    bn = keras.layers.BatchNormalization(epsilon=layer.epsilon)
    bn.build((None, *ref.compute_output_shape((None, *shape))[1:]))
    bn.set_weights([layer.bn_gamma.numpy(), layer.bn_beta.numpy(), layer.moving_mean.numpy(),
                    layer.moving_variance.numpy()])
    # fused-weight math against NumPy, before quantization
    w, b = layer.kernel.numpy(), layer.bias.numpy()
    s = layer.bn_gamma.numpy() / np.sqrt(layer.moving_variance.numpy() + layer.epsilon)
    kernel, bias = layer.fused_kernel_and_bias()
    np.testing.assert_allclose(np.asarray(kernel), w * s, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(bias), (b - layer.moving_mean.numpy()) * s + layer.bn_beta.numpy(),
                               rtol=1e-5, atol=1e-6)
    # the whole layer in inference == BN(linear(x) + b) with the moving statistics, up to quantization
    model = keras.Sequential([keras.Input(shape), HQuantize(paq_conf=HUGE), layer])
    hgq.trace_minmax(model, x)
    expected = np.asarray(bn(ref(x), training=False))
    assert np.allclose(model.predict(x, verbose=0), expected, atol=1e-4)
    assert np.allclose(np.asarray(layer.quantized_kernel(False)), w * s, atol=1e-5)


def mlp(beta=1e-5):
    keras.utils.set_random_seed(0)
    inp = keras.Input((8,))
    x = HQuantize(paq_conf={"init_bw": 5}, name="q")(inp)
    x = HDenseBatchNorm(12, activation="relu", beta=beta, use_bias=False, name="d1")(x)
    x = HDenseBatchNorm(6, activation="relu", beta=beta, momentum=0.9, name="d2")(x)
    x = HDense(2, beta=beta, name="out")(x)
    return keras.Model(inp, x)


def cnn(beta=1e-5):
    keras.utils.set_random_seed(0)
    inp = keras.Input((8, 8, 1))
    x = HQuantize(paq_conf={"init_bw": 4}, name="q")(inp)
    x = HConv2DBatchNorm(4, 3, activation="relu", beta=beta, momentum=0.9, name="c1")(x)
    x = PMaxPooling2D(2, name="pool")(x)
    x = PFlatten(name="flat")(x)
    x = HDense(3, beta=beta, name="out")(x)
    return keras.Model(inp, x)


@functools.lru_cache(maxsize=None)
def trained(which):
    model = mlp() if which == "mlp" else cnn()
    rng = np.random.default_rng(1)
    x = (rng.normal(size=(1000, *model.input_shape[1:])) * 2 + 0.5).astype("float32")
    flat = x.reshape(len(x), -1)
    y = np.stack([np.sin(flat[:, 0]) + flat[:, 1], flat[:, 2] * flat[:, 3], flat[:, -1]], axis=1)
    y = y[:, :model.output_shape[-1]]
    before = {l.name: (l.moving_mean.numpy().copy(), l.moving_variance.numpy().copy())
              for l in model.layers if hasattr(l, "moving_mean")}
    keras.utils.set_random_seed(0)
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    model.fit(x, y.astype("float32"), epochs=2, batch_size=64, verbose=0)
    hgq.trace_minmax(model, x)
    return model, x, before


@pytest.mark.parametrize("which", ["mlp", "cnn"])
def test_training_moves_statistics_and_exports_plain_layers(which):
    model, x, before = trained(which)
    for name, (mean0, var0) in before.items():
        layer = model.get_layer(name)
        assert not np.allclose(layer.moving_mean.numpy(), mean0)
        assert not np.allclose(layer.moving_variance.numpy(), var0)
        assert layer.bn_beta is not None and not np.allclose(layer.bn_beta.numpy(), 0)
        assert layer.bops() > 0
        # BOPs of the fused, quantized kernel (the parent's rule)
        assert float(layer.compute_bops(kernel_q=layer.quantized_kernel(False))) == layer.bops()
    d1 = model.get_layer("d1" if which == "mlp" else "c1")
    if which == "mlp":  # use_bias=False: the raw bias stays a non-trainable zero
        assert not d1.bias.trainable and np.all(d1.bias.numpy() == 0)
    proxy = hgq.to_proxy_model(model)
    assert np.array_equal(proxy.predict(x, verbose=0), model.predict(x, verbose=0))
    kinds = {type(l).__name__ for l in proxy.layers}
    assert not any("BatchNorm" in k for k in kinds)
    assert any(isinstance(l, FixedPointQuantizer) for l in proxy.layers)
    plain = proxy.get_layer(d1.name)
    assert type(plain) in (keras.layers.Dense, keras.layers.Conv2D) and plain.use_bias
    # the exported weights are the fused, quantized ones (the bias may carry the half step of rounding)
    np.testing.assert_array_equal(plain.get_weights()[0], np.asarray(d1.quantized_kernel(False)))


WHICH = ["mlp", "cnn"]
AGGRESSIVE = [True, False]


def hls_case(which, aggressive):
    """``(model, proxy, x)`` of an hls4ml case: the trained model, its proxy and the data."""
    model, x, _ = trained(which)
    return model, hgq.to_proxy_model(model, aggressive=aggressive), x[:1000]


@pytest.fixture(scope="module")
def batchnorm_projects(tmp_path_factory):
    """Every hls4ml case side by side: one hls4ml project (io_parallel)."""
    projects = SideBySide(tmp_path_factory.mktemp("batchnorm"))
    for which in WHICH:
        for aggressive in AGGRESSIVE:
            projects.add((which, aggressive), functools.partial(hls_case, which, aggressive), "io_parallel")
    return projects


@pytest.mark.hls4ml
@pytest.mark.xdist_group("test_batchnorm")  # the worker that compiles the shared project checks every case
@pytest.mark.parametrize("which", WHICH)
@pytest.mark.parametrize("aggressive", AGGRESSIVE, ids=["WRAP", "SAT"])
def test_bit_exact_hls4ml(which, aggressive, batchnorm_projects):
    model, proxy, x, part = batchnorm_projects((which, aggressive), "io_parallel")
    check_bit_exact(proxy, x, part, model=model, scales=(2.5, 3.0))


def test_center_scale_off_and_errors():
    layer = HDenseBatchNorm(3, center=False, scale=False, use_bias=False)
    layer.build((None, 4))
    assert layer.bn_gamma is None and layer.bn_beta is None
    assert [w.name for w in layer.trainable_weights if w.name.startswith("bn_")] == []
    layer.moving_mean.assign(np.array([1.0, -2.0, 0.5], "float32"))
    _, bias = layer.fused_kernel_and_bias()  # the shift -mean*s remains even without center: a bias is needed
    np.testing.assert_allclose(np.asarray(bias), -np.array([1.0, -2.0, 0.5]) / np.sqrt(1 + layer.epsilon), rtol=1e-6)
    with pytest.raises(ValueError, match="momentum"):
        HDenseBatchNorm(3, momentum=1.0)
    with pytest.raises(ValueError, match="epsilon"):
        HConv2DBatchNorm(3, 3, epsilon=0)
    with pytest.raises(ValueError, match="activation"):
        HConv1DBatchNorm(3, 3, activation="tanh")
