"""P-layers and Signature in trained models: the proxy's layers, BOPs through P-layers, hls4ml bit-exactness
(the rules of their types: ``test_passthrough``; each layer alone: ``test_layers``).

The hls4ml cases are compiled side by side, one project per io type (``bitexact.SideBySide``, the
``passthrough_projects`` fixture)."""

import functools

import keras
import numpy as np
import pytest

import hgq
from hgq.layers import (HDense, HQuantize, PAveragePooling1D, PAveragePooling2D, PConcatenate, PFlatten,
                        PGlobalAveragePooling2D, PGlobalMaxPooling1D, PMaxPooling1D, PMaxPooling2D, PPermute, PReshape,
                        Signature)
from hgq.layers import PCropping2D, PUpSampling2D, PZeroPadding2D
from hgq.proxy import FixedPointQuantizer, convert_to_hls4ml

from bitexact import SideBySide, check_bit_exact, with_proxy
from conftest import on_grid
from test_passthrough import kif_of


def pooling_model(io_type):
    """HQuantize (8,8,2) -> PMaxPooling2D -> PAveragePooling2D(2) -> PFlatten -> HDense -> PReshape -> PFlatten
    -> HDense, trained two epochs with beta > 0 and calibrated."""
    keras.utils.set_random_seed(0)
    paq = {"skip_dims": "all"} if io_type == "io_stream" else {}
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1000, 8, 8, 2)).astype("float32")
    y = np.tanh(x.reshape(1000, 4, 32).mean(axis=-1) * 3).astype("float32")
    inp = keras.Input((8, 8, 2))
    h = HQuantize(paq_conf={**paq, "init_bw": 4}, name="q")(inp)
    h = PMaxPooling2D(2, strides=1 if io_type == "io_parallel" else 2, name="mp")(h)  # io_stream: pool == stride
    h = PAveragePooling2D(2, name="ap")(h)
    h = PFlatten(name="fl")(h)
    h = HDense(8, activation="relu", beta=1e-5, paq_conf=paq, name="d1")(h)
    h = PReshape((2, 4), name="rs")(h)
    h = PFlatten(name="fl2")(h)
    model = keras.Model(inp, HDense(4, beta=1e-5, paq_conf=paq, name="d2")(h))
    model.compile(keras.optimizers.Adam(3e-3), "mse")
    model.fit(x, y, epochs=2, batch_size=128, verbose=0)
    hgq.trace_minmax(model, x)
    return model, x


def concat_model():
    """Signature (heterogeneous ADC types) on an (8, 2) input -> two branches (max / average pooling 1D,
    flatten, HDense) -> PConcatenate -> HDense."""
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    k = rng.integers(0, 2, size=(8, 2))
    b = rng.integers(2, 7, size=(8, 2))
    integers = rng.integers(-1, 3, size=(8, 2)) + k
    x = on_grid(k, b, integers, size=(1000, 8, 2), rng=rng)
    y = np.stack([x.sum(axis=(1, 2)), x[:, :4].max(axis=(1, 2))], axis=1).astype("float32")
    inp = keras.Input((8, 2))
    s = Signature(keep_negative=k, bits=b, int_bits=integers, name="adc")(inp)
    a = HDense(5, activation="relu", beta=1e-5, name="da")(PFlatten(name="fa")(PMaxPooling1D(2, name="mp")(s)))
    c = HDense(4, beta=1e-5, name="dc")(PFlatten(name="fc")(PAveragePooling1D(4, name="ap")(s)))
    out = HDense(2, beta=1e-5, name="out")(PConcatenate(name="cat")([a, c]))
    model = keras.Model(inp, out)
    model.compile(keras.optimizers.Adam(3e-3), "mse")
    model.fit(x, y, epochs=2, batch_size=128, verbose=0)
    hgq.trace_minmax(model, x)
    return model, x


def global_pooling_model(io_type):
    """(4, 4, 2) -> PGlobalAveragePooling2D, (8, 3) -> PPermute -> PGlobalMaxPooling1D, and the (4, 4, 2) padded,
    cropped, upsampled and flattened, concatenated -> HDense,
    trained one epoch with beta > 0 and calibrated (homogeneous quantizers for io_stream)."""
    keras.utils.set_random_seed(2)
    paq = {"skip_dims": "all"} if io_type == "io_stream" else {}
    rng = np.random.default_rng(2)
    x = [rng.normal(size=(1000, 4, 4, 2)).astype("float32"), rng.normal(size=(1000, 8, 3)).astype("float32")]
    y = np.stack([x[0].mean(axis=(1, 2, 3)), x[1].max(axis=(1, 2))], axis=1)
    image, particles = keras.Input((4, 4, 2)), keras.Input((8, 3))
    qa = HQuantize(paq_conf={**paq, "init_bw": 4}, name="qa")(image)
    a = PGlobalAveragePooling2D(name="gap")(qa)
    m = PPermute((2, 1), name="permute")(HQuantize(paq_conf={**paq, "init_bw": 4}, name="qm")(particles))
    m = PGlobalMaxPooling1D(name="gmp")(m)
    moved = PZeroPadding2D(((1, 0), (0, 1)), name="pad")(qa)
    moved = PFlatten()(PUpSampling2D(2, name="up")(PCropping2D(((0, 1), (1, 0)), name="crop")(moved)))
    model = keras.Model([image, particles], HDense(2, beta=1e-5, paq_conf=paq, name="d")(PConcatenate()([a, m, moved])))
    model.compile(keras.optimizers.Adam(3e-3), "mse")
    model.fit(x, y, epochs=1, batch_size=128, verbose=0)
    hgq.trace_minmax(model, x)
    return model, x


@functools.lru_cache(maxsize=None)
def trained_pooling_parallel():
    return pooling_model("io_parallel")


@functools.lru_cache(maxsize=None)
def trained_concat():
    return concat_model()


def average_pooling_same_model():
    """(7, 5) with pool 2, stride 2, 'same' -> PFlatten -> HDense, calibrated on 1/8-step data in [-4, 4)."""
    keras.utils.set_random_seed(0)
    x = (np.random.default_rng(0).integers(-32, 32, size=(1000, 7, 5, 2)) / 8).astype("float32")
    inp = keras.Input((7, 5, 2))
    ap = PAveragePooling2D(2, padding="same", name="ap")
    h = PFlatten()(ap(Signature(keep_negative=1, bits=6, int_bits=3)(inp)))
    model = keras.Model(inp, HDense(3, name="d")(h))
    hgq.trace_minmax(model, x)
    return model, x


@pytest.fixture(scope="module")
def pooling_parallel():
    return trained_pooling_parallel()


@pytest.fixture(scope="module")
def concat():
    return trained_concat()


#: the hls4ml cases: name -> (io type, builder)
HLS_CASES = {
    "pooling-WRAP": ("io_parallel", functools.partial(with_proxy, trained_pooling_parallel, True)),
    "pooling-SAT": ("io_parallel", functools.partial(with_proxy, trained_pooling_parallel, False)),
    "pooling-stream": ("io_stream", functools.partial(with_proxy, functools.partial(pooling_model, "io_stream"))),
    "concat": ("io_parallel", functools.partial(with_proxy, trained_concat)),
    "average-same": ("io_parallel", functools.partial(with_proxy, average_pooling_same_model)),
    "global-stream": ("io_stream", functools.partial(with_proxy, functools.partial(global_pooling_model, "io_stream"))),
}


@pytest.fixture(scope="module")
def passthrough_projects(tmp_path_factory):
    """Every case of ``HLS_CASES`` side by side: one hls4ml project per io type."""
    projects = SideBySide(tmp_path_factory.mktemp("passthrough_models"))
    for case, (io_type, build) in HLS_CASES.items():
        projects.add(case, build, io_type)
    return projects


def test_proxy_layers(pooling_parallel, concat):
    proxy = hgq.to_proxy_model(pooling_parallel[0])
    types = {layer.name: type(layer).__name__ for layer in proxy.layers}
    assert types["mp"] == "MaxPooling2D" and types["ap"] == "AveragePooling2D" and types["fl"] == "Flatten"
    assert types["rs"] == "Reshape" and all(layer.dtype == "float64" for layer in proxy.layers[1:])
    proxy = hgq.to_proxy_model(concat[0])
    adc = proxy.get_layer("adc")
    assert isinstance(adc, FixedPointQuantizer) and (adc.RND, adc.SAT) == ("TRN", "WRAP")
    assert adc.kbi()[0].shape == (1, 8, 2) and type(proxy.get_layer("cat")).__name__ == "Concatenate"


def test_bops_see_through_p_layers(pooling_parallel):
    model, _ = pooling_parallel
    d1 = model.get_layer("d1")
    fl = model.get_layer("fl")
    in_bits = keras.ops.convert_to_numpy(fl.output_bits()).reshape(-1)
    w_bits = keras.ops.convert_to_numpy(d1.kq.bits(d1.quantized_kernel(False)))
    assert d1.bops() == pytest.approx(float(in_bits @ w_bits.sum(axis=1)))
    assert d1.bops() > 0


@pytest.mark.hls4ml
@pytest.mark.xdist_group("test_passthrough_models")  # the worker that compiles the shared projects checks every case
@pytest.mark.parametrize("aggressive", [True, False], ids=["WRAP", "SAT"])
def test_pooling_chain_io_parallel_bit_exact(aggressive, passthrough_projects):
    model, proxy, x, part = passthrough_projects(f"pooling-{'WRAP' if aggressive else 'SAT'}", "io_parallel")
    check_bit_exact(proxy, x, part, model=model, scales=(3.0,))


@pytest.mark.hls4ml
@pytest.mark.xdist_group("test_passthrough_models")
def test_pooling_chain_io_stream_bit_exact(passthrough_projects):
    model, proxy, x, part = passthrough_projects("pooling-stream", "io_stream")
    check_bit_exact(proxy, x, part, model=model, scales=(3.0,))


@pytest.mark.hls4ml
@pytest.mark.xdist_group("test_passthrough_models")
def test_signature_concatenate_io_parallel_bit_exact(passthrough_projects):
    model, proxy, x, part = passthrough_projects("concat", "io_parallel")
    proxy_sat = hgq.to_proxy_model(model, aggressive=False)
    assert np.array_equal(proxy_sat.predict(x, verbose=0), model.predict(x, verbose=0))
    check_bit_exact(proxy, x, part, model=model, scales=(3.0,))


@pytest.mark.hls4ml
@pytest.mark.xdist_group("test_passthrough_models")
def test_average_pooling_same_padding_io_parallel_bit_exact(passthrough_projects):
    """(7, 5) with pool 2, stride 2, 'same': pools of 4, 2 and 1 real elements; hls4ml divides like Keras."""
    model, proxy, x, part = passthrough_projects("average-same", "io_parallel")
    f = kif_of(model.get_layer("ap"))[2][0, :, :, 0]
    assert np.array_equal(f, [[5, 5, 4], [5, 5, 4], [5, 5, 4], [4, 4, 3]])
    check_bit_exact(proxy, x, part, model=model, scales=(3.0,))


@pytest.mark.hls4ml
@pytest.mark.xdist_group("test_passthrough_models")
def test_global_pooling_permute_padding_cropping_upsampling_io_stream_bit_exact(passthrough_projects):
    """io_stream, trained (each layer alone on io_parallel under every strategy: ``test_layers``)."""
    model, proxy, x, part = passthrough_projects("global-stream", "io_stream")
    assert type(proxy.get_layer("permute")).__name__ == "Permute"
    assert [type(proxy.get_layer(n)).__name__ for n in ("gap_pool", "gap")] == ["GlobalAveragePooling2D", "Reshape"]
    assert [type(proxy.get_layer(n)).__name__ for n in ("pad", "crop", "up")] == ["ZeroPadding2D", "Cropping2D",
                                                                                  "UpSampling2D"]
    check_bit_exact(proxy, x, part, model=model, scales=(3.0,))


def test_a_permute_named_perm_is_refused_by_name(tmp_path):
    """hls4ml overwrites its Transpose's ``perm`` attribute with the output of a layer named ``perm`` and fails with a
    ``TypeError``: the export says so instead."""
    inp = keras.Input((4, 3))
    model = keras.Model(inp, HDense(2, name="d")(PFlatten()(PPermute((2, 1), name="perm")(HQuantize(name="q")(inp)))))
    hgq.trace_minmax(model, np.random.default_rng(0).normal(size=(64, 4, 3)))
    with pytest.raises(ValueError, match=r"layer 'perm'.*rename the layer"):
        convert_to_hls4ml(hgq.to_proxy_model(model), tmp_path / "prj")


def test_three_input_concatenate_exports_as_a_chain_and_a_plain_one_is_refused(tmp_path):
    """hls4ml's Concatenate takes two inputs (three crash it with a bare AssertionError): a PConcatenate of three is
    exported as a chain of two-input ones with the same values; a proxy of one three-input Concatenate is refused by
    name. (Bit-exact through hls4ml in the grid's every-layer model.)"""
    x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    inp = keras.Input((3,))
    parts = [HQuantize(paq_conf={"init_bw": n + 2}, name=f"q{n}")(inp) for n in range(3)]
    model = keras.Model(inp, PConcatenate(name="cat")(parts))
    hgq.trace_minmax(model, x)
    proxy = hgq.to_proxy_model(model)
    assert [type(proxy.get_layer(n)).__name__ for n in ("cat", "cat_1")] == ["Concatenate", "Concatenate"]
    assert np.array_equal(proxy.predict(x, verbose=0), model.predict(x, verbose=0))
    plain = keras.Model(proxy.inputs, keras.layers.Concatenate(name="cat3")([proxy.get_layer(f"q{n}").output
                                                                             for n in range(3)]))
    with pytest.raises(ValueError, match="layer 'cat3'.*it has 3 inputs, and hls4ml's Concatenate takes two"):
        convert_to_hls4ml(plain, tmp_path / "prj")
