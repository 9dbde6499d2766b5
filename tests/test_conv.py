"""HConv1D / HConv2D: BOPs, proxy export, bit-exactness through hls4ml, parallel_factor, serialization.

The hls4ml cases are compiled side by side, one project per io type (``bitexact.SideBySide``, the ``conv_projects``
fixture); the parallel_factor check reads its own conversion."""

import functools

import keras
import numpy as np
import pytest

import hgq
from hgq.layers import HConv1D, HConv2D, HQuantize
from hgq.proxy import convert_to_hls4ml

from bitexact import SideBySide, check_bit_exact
from conftest import gradients


def conv_model(dims, paq_conf=None, beta=1e-4, seed=0):
    """HQuantize -> conv (ReLU, bias, 'same') -> conv (2D: no bias, floor; 1D: strides 2, bias)."""
    keras.utils.set_random_seed(seed)
    paq = dict(paq_conf or {})
    if dims == 2:
        inp = keras.Input((8, 8, 1))
        x = HQuantize(paq_conf={**paq, "init_bw": 4}, name="inp_q")(inp)
        x = HConv2D(4, 3, strides=2, padding="same", activation="relu", beta=beta, paq_conf=paq,
                    parallel_factor=2, name="c1")(x)
        x = HConv2D(3, 2, use_bias=False, beta=beta, paq_conf=paq, name="c2")(x)
    else:
        inp = keras.Input((16, 2))
        x = HQuantize(paq_conf={**paq, "init_bw": 4}, name="inp_q")(inp)
        x = HConv1D(4, 3, padding="same", activation="relu", beta=beta, paq_conf=paq, parallel_factor=4,
                    name="c1")(x)
        x = HConv1D(3, 3, strides=2, beta=beta, paq_conf=paq, name="c2")(x)
    return keras.Model(inp, x)


@functools.lru_cache(maxsize=None)
def trained(dims, homogeneous=False):
    """``conv_model`` trained 2 epochs with beta > 0 (heterogeneous widths), calibrated; returns model and inputs."""
    model = conv_model(dims, paq_conf={"skip_dims": "all"} if homogeneous else None)
    rng = np.random.default_rng(dims)
    x = rng.normal(size=(1000, *model.input_shape[1:])).astype("float32")
    y = conv_model(dims, seed=1).predict(x, verbose=0)  # a learnable target: a random model of the same shape
    keras.utils.set_random_seed(0)
    model.compile(keras.optimizers.Adam(3e-2), "mse")
    model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    hgq.trace_minmax(model, x)
    return model, x


def tiny_conv1d(padding):
    """Input widths (2, 2, 2, 4) at 4 positions; kernel taps [[0.75, 0], [3, -1.25]] (widths [[2, 0], [4, 4]])."""
    inp = keras.Input((4, 1))
    q = HQuantize(name="q")
    conv = HConv1D(2, 2, padding=padding, use_bias=False,
                   parallel_factor=3 if padding == "valid" else 2, name="conv")
    model = keras.Model(inp, conv(q(inp)))
    q.paq.fbits.assign(np.array([1.0, 2.0, 0.0, 3.0], "float32").reshape(1, 4, 1))
    conv.kq.fbits.assign(np.full((2, 1, 2), 2.0, "float32"))
    conv.kernel.assign(np.array([[0.75, 0.0], [3.0, -1.25]], "float32").reshape(2, 1, 2))
    # ranges [0.5, 1.5] f=1 -> ufixed 2 bits; [0.25, 0.75] f=2 -> 2; [1, 3] f=0 -> 2; [-1, 0.125] f=3 -> 4
    x = np.array([[0.5, 0.25, 1.0, 0.125], [1.5, 0.75, 3.0, -1.0]], "float32").reshape(2, 4, 1)
    return model, x, conv


@pytest.mark.parametrize("padding, expected", [("valid", 76.0), ("same", 84.0)])
def test_bops_hand_count(padding, expected):
    # valid, 3 positions p = 0..2 reading inputs (p, p+1):
    #   filter 0: (2*2 + 2*4) + (2*2 + 2*4) + (2*2 + 4*4) = 44;  filter 1: (2*0 + 2*4) * 2 + (2*0 + 4*4) = 32
    # same: one more position reading (input 3, padded zero): 4*2 = 8 more; the padding costs nothing
    model, x, conv = tiny_conv1d(padding)
    assert hgq.trace_minmax(model, x) == expected
    np.testing.assert_array_equal(np.asarray(model.get_layer("q").output_bits()).ravel(), [2, 2, 2, 4])
    assert conv.bops() == expected
    assert conv.output_positions() == (3 if padding == "valid" else 4)
    # parallel_factor (3 of 3 positions; 2 of 4) scales the per-position average, never bops() itself
    assert conv.parallel_bops() == (76.0 if padding == "valid" else 42.0)


@pytest.mark.parametrize("dims", [1, 2])
def test_training_adds_bops_loss_and_makes_widths_heterogeneous(dims):
    model, _ = trained(dims)
    c1 = model.get_layer("c1")
    assert np.unique(np.round(np.asarray(c1.kq.fractional_bits()))).size > 1
    assert c1.bops() > 0
    x = model.get_layer("inp_q")(np.zeros((2, *model.input_shape[1:]), "float32"))
    c1(x, training=False)
    inference_losses = [float(v) for v in c1.losses]  # the quantizers' regularizers only
    c1(x, training=True)  # adds beta * BOPs
    extra = [float(v) for v in c1.losses if float(v) not in inference_losses]
    assert extra == pytest.approx([c1.beta * c1.bops()], rel=1e-6)


@pytest.mark.parametrize("dims", [1, 2])
@pytest.mark.parametrize("homogeneous", [False, True], ids=["hetero", "homo"])
def test_proxy_equals_model(dims, homogeneous):
    model, x = trained(dims, homogeneous)
    proxy = hgq.to_proxy_model(model)
    assert np.array_equal(proxy.predict(x, verbose=0), model.predict(x, verbose=0))
    assert isinstance(proxy.get_layer("c1"), keras.layers.Conv1D if dims == 1 else keras.layers.Conv2D)
    # c1 has a bias and rounds half up: the bias absorbs the half step where each channel has one step at every
    # position (always when homogeneous); the exported bias then carries 2**-(f + 1) of its channel
    c1 = model.get_layer("c1")
    f = keras.ops.convert_to_numpy(c1.paq.fractional_bits())
    steps = [np.unique(f[..., c]) for c in range(f.shape[-1])]
    absorbed = all(s.size == 1 for s in steps)
    assert absorbed or not homogeneous
    assert proxy.get_layer("c1_q").RND == ("TRN" if absorbed else "RND")
    shift = [2.0 ** -(s[0] + 1) for s in steps] if absorbed else 0.0
    bias = keras.ops.convert_to_numpy(c1.quantized_bias())
    assert np.array_equal(proxy.get_layer("c1").get_weights()[1], bias + shift)


HLS_CASES = [(2, False, "io_parallel", True), (2, False, "io_parallel", False), (2, True, "io_stream", True),
             (1, False, "io_parallel", True), (1, False, "io_parallel", False), (1, True, "io_stream", False)]


def hls_case(dims, homogeneous, aggressive):
    """``(model, proxy, x)`` of an hls4ml case: the trained model, its proxy and the data."""
    model, x = trained(dims, homogeneous)
    return model, hgq.to_proxy_model(model, aggressive=aggressive), x


@pytest.fixture(scope="module")
def conv_projects(tmp_path_factory):
    """Every case of ``HLS_CASES`` side by side: one hls4ml project per io type."""
    projects = SideBySide(tmp_path_factory.mktemp("conv"))
    for dims, homogeneous, io_type, aggressive in HLS_CASES:
        projects.add((dims, homogeneous, aggressive), functools.partial(hls_case, dims, homogeneous, aggressive),
                     io_type)
    return projects


@pytest.mark.hls4ml
@pytest.mark.xdist_group("test_conv")  # the worker that compiles the shared projects checks every case
@pytest.mark.parametrize("dims, homogeneous, io_type, aggressive", HLS_CASES,
                         ids=[f"{d}d-{io}-{'WRAP' if a else 'SAT'}" for d, _, io, a in HLS_CASES])
def test_bit_exact_through_hls4ml(dims, homogeneous, io_type, aggressive, conv_projects):
    model, proxy, x, part = conv_projects((dims, homogeneous, aggressive), io_type)
    check_bit_exact(proxy, x, part, model=model, scales=(3.0,))


@pytest.mark.hls4ml
@pytest.mark.parametrize("dims", [1, 2])
def test_parallel_factor_reaches_hls4ml(dims, tmp_path):
    model, _ = trained(dims)
    proxy = hgq.to_proxy_model(model)
    assert proxy.get_layer("c1_q").overrides == {"layers": {"c1": {"parallelization_factor": 4 if dims == 1 else 2}}}
    # the proxy's own project (WRAP, io_parallel), converted: the attributes are set by the conversion
    hls_model = convert_to_hls4ml(proxy, tmp_path / "prj")
    assert hls_model.graph["c1"].get_attr("parallelization_factor") == (4 if dims == 1 else 2)
    assert hls_model.graph["c2"].get_attr("parallelization_factor") == 1


def test_activation_must_be_linear_or_relu():
    with pytest.raises(ValueError, match="'my_conv'.*tanh"):
        HConv2D(4, 3, activation="tanh", name="my_conv")
    with pytest.raises(ValueError, match="'my_conv1d'.*tanh"):
        HConv1D(4, 3, activation="tanh", name="my_conv1d")


@pytest.mark.parametrize("kwargs, message", [
    ({"dilation_rate": 2}, "dilation_rate"),
    ({"padding": "causal"}, "padding"),
    ({"parallel_factor": 0}, "parallel_factor"),
    ({"parallel_factor": 1.5}, "parallel_factor"),
    ({"groups": 2}, "groups"),
])
def test_unsupported_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        HConv1D(4, 3, name="bad", **kwargs)


def test_parallel_factor_must_divide_output_positions():
    inp = keras.Input((8, 1))
    with pytest.raises(ValueError, match="parallel_factor=4 must divide the number of output positions \\(6\\)"):
        HConv1D(2, 3, parallel_factor=4, name="c")(HQuantize()(inp))


@pytest.mark.parametrize("dims, kernel, strides, padding", [
    (1, 3, 1, "valid"), (1, 4, 3, "same"), (2, (3, 2), (2, 1), "same"), (2, 3, 2, "valid"), (2, (2, 4), 3, "same")])
def test_bops_equal_the_convolution_of_the_bit_widths(dims, kernel, strides, padding):
    # bops() contracts the input widths with one 0/1 matrix per axis; the reference convolves the width
    # maps directly: sum over every output position and tap of b_in * b_w
    from keras import ops

    rng = np.random.default_rng(dims)
    shape = (9, 3) if dims == 1 else (7, 8, 3)
    inp = keras.Input(shape)
    q = HQuantize(name="q")
    layer = (HConv1D if dims == 1 else HConv2D)(4, kernel, strides=strides, padding=padding, name="conv")
    keras.Model(inp, layer(q(inp)))
    q.paq.fbits.assign(rng.integers(0, 5, size=(1, *shape)).astype("float32"))
    layer.kq.fbits.assign(rng.integers(0, 5, size=layer.kernel.shape).astype("float32"))
    x = rng.normal(size=(64, *shape)).astype("float32") * 4
    q.paq(x, training=True)  # records the ranges
    in_bits = ops.cast(q.output_bits(), "float64")  # shaped (1, *shape)
    w_bits = ops.cast(layer.kq.bits(layer.quantized_kernel(False)), "float64")
    reference = float(ops.sum(layer.convolution_op(in_bits, w_bits)))
    assert reference > 0
    assert layer.bops() == reference


# -- the input gradient as a matmul and col2im ----------------------------------------------------------------

@pytest.mark.parametrize("spatial, kernel_size, strides, padding", [
    ((9, 10), (3, 2), (1, 1), "valid"), ((9, 10), (3, 2), (1, 1), "same"), ((9, 10), (3, 3), (2, 2), "valid"),
    ((9, 10), (3, 3), (2, 3), "same"), ((11,), (3,), (1,), "same"), ((11,), (4,), (3,), "valid"),
])
def test_matmul_input_gradient_equals_the_convolutions(spatial, kernel_size, strides, padding):
    """Integer values keep every float32 sum exact, so the two gradients must be equal, not close."""
    from hgq.families.kernel.conv_gradient import convolution_with_matmul_input_gradient

    rng = np.random.default_rng(len(spatial) + strides[0])
    x = rng.integers(-4, 5, size=(3, *spatial, 3)).astype("float32")
    kernel = rng.integers(-3, 4, size=(*kernel_size, 3, 5)).astype("float32")
    upstream = keras.ops.convert_to_tensor(
        rng.integers(-2, 3, size=keras.ops.conv(x, kernel, strides, padding).shape).astype("float32"))

    def native(x, k):
        return keras.ops.conv(x, k, strides, padding) * upstream

    def by_matmul(x, k):
        conv = functools.partial(keras.ops.conv, strides=strides, padding=padding)
        return convolution_with_matmul_input_gradient(conv, x, k, strides, padding) * upstream

    assert np.array_equal(keras.ops.convert_to_numpy(by_matmul(x, kernel)),
                          keras.ops.convert_to_numpy(native(x, kernel)))
    def summed(fn):
        return lambda x, k: keras.ops.sum(fn(x, k))

    dx, dk = gradients(summed(by_matmul), x, kernel)
    dx_native, dk_native = gradients(summed(native), x, kernel)
    assert np.any(dx != 0)
    assert np.array_equal(dx, dx_native)
    assert np.array_equal(dk, dk_native)


def test_few_channel_convolutions_take_the_matmul_input_gradient_on_jax():
    from hgq.backend import conv_input_gradient_by_matmul

    on_jax = keras.backend.backend() == "jax"
    assert conv_input_gradient_by_matmul(3) is on_jax  # the first convolution of an RGB model
    assert conv_input_gradient_by_matmul(16) is False
