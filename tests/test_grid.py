"""The bit-exactness grid of issue 3: every exportable layer x rnd_strategy x aggressive through real hls4ml.

One model holds every exportable H- and P-layer type (``test_every_layer_type_is_in_the_grid`` checks that it does;
``Signature`` declares the types of on-grid inputs and has its own checks); the grid's cells are compiled side by side, one hls4ml project per io type
(``bitexact.SideBySide``, the ``grid_projects`` fixture).
"""

import functools

import keras
import numpy as np
import pytest

import hgq
from hgq.layers import (HActivation, HAdd, HBatchNormalization, HConv1D, HConv1DBatchNorm, HConv2D, HConv2DBatchNorm,
                        HDense, HDenseBatchNorm, HEinsumDenseBatchNorm, HMaximum, HMinimum, HMultiHeadAttention,
                        HMultiply, HQuantize, HSoftmax, HSubtract, PAveragePooling1D, PAveragePooling2D, PConcatenate,
                        PFlatten, PGlobalAveragePooling1D, PGlobalAveragePooling2D, PGlobalMaxPooling1D,
                        PGlobalMaxPooling2D, PMaxPooling1D, PMaxPooling2D, PPermute, PReshape)
from hgq.layers import HAverage, PCropping1D, PCropping2D, PUpSampling1D, PUpSampling2D, PZeroPadding1D, PZeroPadding2D
from hgq.layers import HDepthwiseConv2D, HLayerNormalization, HPReLU, HSeparableConv2D

from bitexact import SideBySide, check_bit_exact, with_proxy

# the backend-independent grid: run once; the worker that compiles the module's shared projects runs every cell
pytestmark = [pytest.mark.hls4ml, pytest.mark.once, pytest.mark.xdist_group("test_grid")]

ROUNDINGS = ["standard_round", "floor", "auto"]


def every_layer_model():
    """(8, 8, 2) input through every exportable H- and P-layer type: HConv2D, HConv2DBatchNorm, both 2-D poolings,
    HConv1DBatchNorm, HDenseBatchNorm, HDense, a lookup-table HActivation, HAdd, PConcatenate, PReshape, PFlatten;
    and, on 4 tokens, HEinsumDenseBatchNorm, HMultiHeadAttention (HEinsumDense, HEinsum, HSoftmax),
    HBatchNormalization, HConv1D, both 1-D poolings, HMaximum, HMinimum, HSubtract, HMultiply, HAverage, PPermute, the four
    global poolings, padding, cropping and upsampling, HLayerNormalization, HPReLU, HDepthwiseConv2D,
    HSeparableConv2D; an HSoftmax head."""
    inp = keras.Input((8, 8, 2))
    q = HQuantize(paq_conf={"init_bw": 4})(inp)
    c1 = HConv2D(4, 3, padding="same", activation="relu", beta=1e-5)(q)
    p1 = PMaxPooling2D(2)(c1)                                                     # (4, 4, 4)
    c2 = HActivation("relu")(HConv2DBatchNorm(4, 3, beta=1e-5)(p1))           # (2, 2, 4)
    flat2 = PFlatten()(PAveragePooling2D(2)(c2))                                  # (4,)
    seq = PReshape((16, 4))(PFlatten()(p1))
    flat1 = PFlatten()(HConv1DBatchNorm(3, 3, strides=2, activation="relu", beta=1e-5)(seq))  # (7 * 3,)
    tokens = HEinsumDenseBatchNorm("abc,cd->abd", (4, 6), bias_axes="d", beta=1e-5)(PReshape((4, 4))(PFlatten()(c2)))
    tokens = HBatchNormalization(beta=1e-5)(HMultiHeadAttention(2, 3, beta=1e-5)(tokens, tokens))  # (4, 6)
    c3 = HConv1D(3, 3, beta=1e-5)(HLayerNormalization(beta=1e-5)(tokens))         # (2, 3)
    high, mean = PFlatten()(PMaxPooling1D(2)(c3)), PFlatten()(PAveragePooling1D(2)(c3))  # (3,) each
    spread = HSubtract()([HMaximum()([high, mean]), HMinimum()([high, mean])])
    mixed = HMultiply()([spread, mean])                                              # (3,)
    moved2 = PUpSampling2D((2, 1))(PCropping2D(((1, 0), (0, 1)))(PZeroPadding2D(((1, 0), (0, 1)))(c2)))  # (4, 2, 4)
    moved1 = PUpSampling1D(2)(PCropping1D((2, 0))(PZeroPadding1D(1)(c3)))                # (4, 3)
    pooled = [PGlobalAveragePooling2D()(c2), PGlobalMaxPooling2D()(moved2),            # (4,) each
              PGlobalMaxPooling1D()(PPermute((2, 1))(tokens)), PGlobalAveragePooling1D()(moved1)]  # (4,), (3,)
    halved = HPReLU("random_normal", beta=1e-5)(HAverage()([spread, mean]))         # (3,)
    separable = HSeparableConv2D(4, 2, strides=2, beta=1e-5)(HDepthwiseConv2D(3, padding="same", beta=1e-5)(p1))
    pooled.append(PGlobalAveragePooling2D()(separable))                             # (4,)
    d1 = HDenseBatchNorm(8, activation="relu", beta=1e-5)(PConcatenate()([flat2, flat1, mixed, halved, *pooled]))
    summed = HAdd()([HActivation("tanh", paq_conf={"init_bw": 3})(d1), HDense(8, beta=1e-5)(d1)])
    return keras.Model(inp, HSoftmax(beta=1e-5)(HDense(3, beta=1e-5)(summed)))


def streamable_model():
    """Homogeneous output quantizers and 'valid' pooling: what hls4ml's io_stream supports."""
    inp = keras.Input((8, 8, 2))
    x = HQuantize(paq_conf={"init_bw": 4})(inp)
    x = PMaxPooling2D(2)(HConv2D(4, 3, padding="same", activation="relu", beta=1e-5)(x))
    x = PFlatten()(HConv2D(4, 3, use_bias=False, activation="relu", beta=1e-5)(x))
    return keras.Model(inp, HDense(3, beta=1e-5)(HDense(8, activation="relu", beta=1e-5)(x)))


def trained(build, rnd_strategy, paq_extra=None, weights_of=None):
    """``build()``'s model with this rounding of its outputs, trained two epochs or given the weights of
    ``weights_of`` (a model of the same layers), and calibrated; and the data."""
    keras.utils.set_random_seed(0)
    hgq.set_default_kq_conf({"init_bw": 4})  # the grid is about output rounding: weights are exported as values
    hgq.set_default_paq_conf({"rnd_strategy": rnd_strategy, "init_bw": 4, **(paq_extra or {})})
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1000, 8, 8, 2)).astype("float32")
    y = np.tanh(x.reshape(1000, -1)[:, :3] * 2).astype("float32")
    model = build()
    if weights_of is None:
        model.compile(keras.optimizers.Adam(3e-3), "mse")
        model.fit(x, y, epochs=2, batch_size=64, verbose=0)
    else:
        model.set_weights(weights_of.get_weights())
    hgq.trace_minmax(model, x)
    return model, x


AGGRESSIVE = [True, False]
#: the model and extra activation-quantizer config of each io type's cells
CELLS = {"io_parallel": (every_layer_model, None), "io_stream": (streamable_model, {"skip_dims": "all"})}


@functools.cache
def trained_cell(io_type, rnd_strategy):
    """The trained and calibrated ``(model, x)`` of an io type's cells with this rounding. ``aggressive`` (WRAP or
    SAT) only chooses how it is exported, so both share it. The first rounding's model is trained; the others are
    built with their rounding and given its weights (the grid is about how outputs are rounded on export, and a
    training, its graph traced or compiled, takes most of a cell's time)."""
    build, paq_extra = CELLS[io_type]
    first = None if rnd_strategy == ROUNDINGS[0] else trained_cell(io_type, ROUNDINGS[0])[0]
    return trained(build, rnd_strategy, paq_extra, first)


def cover_factor_case():
    """Ranges shrunk below the data (``cover_factor=0.5``): a copy of the io_parallel "auto" cell's model,
    calibrated anew."""
    model, x = trained_cell("io_parallel", "auto")
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    hgq.trace_minmax(copy, x, cover_factor=0.5)
    return copy, hgq.to_proxy_model(copy), x


@pytest.fixture(scope="module")
def grid_projects(tmp_path_factory):
    """Every cell of the grid (and the cover-factor case), side by side: one hls4ml project per io type."""
    projects = SideBySide(tmp_path_factory.mktemp("grid"))
    for io_type in CELLS:
        for rnd_strategy in ROUNDINGS:
            for aggressive in AGGRESSIVE:
                build = functools.partial(trained_cell, io_type, rnd_strategy)
                projects.add((io_type, rnd_strategy, aggressive), functools.partial(with_proxy, build, aggressive),
                             io_type)
    projects.add("cover_factor", cover_factor_case, "io_parallel")
    return projects


def assert_grid_cell(grid_projects, io_type, rnd_strategy, aggressive):
    model, proxy, x, part = grid_projects((io_type, rnd_strategy, aggressive), io_type)
    check_bit_exact(proxy, x, part, model=model, scales=(2.5, 3.0))


@pytest.mark.parametrize("aggressive", AGGRESSIVE, ids=["WRAP", "SAT"])
@pytest.mark.parametrize("rnd_strategy", ROUNDINGS)
def test_every_layer_io_parallel(rnd_strategy, aggressive, grid_projects):
    assert_grid_cell(grid_projects, "io_parallel", rnd_strategy, aggressive)


@pytest.mark.parametrize("aggressive", AGGRESSIVE, ids=["WRAP", "SAT"])
@pytest.mark.parametrize("rnd_strategy", ROUNDINGS)
def test_homogeneous_io_stream(rnd_strategy, aggressive, grid_projects):
    assert_grid_cell(grid_projects, "io_stream", rnd_strategy, aggressive)


def test_cover_factor_below_one_proxy_still_equals_hls4ml(grid_projects):
    """Ranges shrunk below the data: the proxy no longer equals the H-model, but hls4ml still equals the proxy."""
    model, proxy, x, part = grid_projects("cover_factor", "io_parallel")
    y_proxy = proxy.predict(x, verbose=0)
    assert not np.array_equal(y_proxy, model.predict(x, verbose=0))
    check_bit_exact(proxy, x, part, scales=())


def test_every_layer_type_is_in_the_grid():
    """Every H- and P-layer class of ``hgq.layers`` (but the abstract ``HLayer`` and ``Signature``) is in the
    io_parallel grid's model, its parts included; but the 1-D depthwise and separable convolutions, which hls4ml
    cannot build next to the 2-D ones (their headers share an include guard), ``HEmbedding``, which reads integer
    indices, not the grid's image (``test_layers`` and ``test_quantize_model`` check them), and the recurrent layers,
    whose output is their state type whatever the grid's rounding and overflow (``test_recurrent`` and
    ``test_layers`` check them: each would compile six more recurrent layers into the grid's project)."""
    import hgq.layers

    model = every_layer_model()
    present = {type(layer) for layer in model.layers}
    present |= {type(part) for layer in model.layers for part in getattr(layer, "parts", lambda: [])()}
    wanted = {getattr(hgq.layers, name) for name in hgq.layers.__all__} - {
        hgq.layers.HLayer, hgq.layers.Signature, hgq.layers.HDepthwiseConv1D, hgq.layers.HSeparableConv1D,
        hgq.layers.HEmbedding, hgq.layers.HGRU, hgq.layers.HLSTM, hgq.layers.HBidirectional}
    assert sorted(cls.__name__ for cls in wanted - present) == []
