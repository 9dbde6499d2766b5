"""quantize_model: float Keras models (MLP, CNN with batch normalizations, a transformer with a layer normalization, an MLP-mixer with deep-sets
pooling and dot products, a CNN of depthwise, separable and time-distributed layers ending in global pooling, a 1-D
conv net with padding, cropping and upsampling, integer tokens through an Embedding, the Keras activation layers) become H-models with their weights, computing what the float model computes when the bit widths are wide, trainable, and bit-exact with hls4ml
once trained and calibrated; what it cannot map is refused by name."""

import keras
import numpy as np
import pytest

import hgq
from hgq import layers as hl
from hgq.profiling import profile

from bitexact import SideBySide, check_bit_exact

WIDE = {"init_bw": 14}


def moved(model, seed=0):
    """Every weight of ``model`` (moving statistics included) away from its initial value: each scaled by a random
    factor in [0.5, 1.5] and shifted by a small random amount (variances kept positive)."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        value = keras.ops.convert_to_numpy(w)
        new = value * rng.uniform(0.5, 1.5, size=value.shape) + rng.normal(scale=0.05, size=value.shape)
        w.assign(np.abs(new) if "variance" in w.path else new)


def fitted(model, x, seed=0):
    """``model`` compiled and fitted one epoch on ``x`` against random targets."""
    y = np.random.default_rng(seed).uniform(size=(len(keras.tree.flatten(x)[0]), model.output_shape[-1]))
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    model.fit(x, y, epochs=1, batch_size=100, verbose=0)
    return model


def mlp():
    """With a nested Sequential, whose last Dense the outer batch normalization is fused into."""
    inner = keras.Sequential([keras.layers.Dense(16, activation="relu", name="dense1"),
                              keras.layers.Dense(12, name="dense2")], name="inner")
    x = keras.Input((10,))
    y = keras.layers.BatchNormalization(name="dense2_bn")(inner(x))
    y = keras.layers.Activation("relu", name="relu")(y)
    return keras.Model(x, keras.layers.Dense(5, activation="softmax", name="head")(y), name="mlp")


def cnn():
    x = keras.Input((6, 6, 2))
    y = keras.layers.Conv2D(4, 3, name="conv")(x)
    y = keras.layers.BatchNormalization(name="conv_bn")(y)
    y = keras.layers.ReLU(name="relu")(y)
    y = keras.layers.MaxPooling2D(name="pool")(y)
    y = keras.layers.Flatten(name="flat")(y)
    y = keras.layers.Dense(8, activation="relu", name="hidden")(y)
    y = keras.layers.BatchNormalization(name="hidden_bn")(y)
    y = keras.layers.Dropout(0.2, name="drop")(y)
    return keras.Model(x, keras.layers.Dense(5, activation="tanh", name="head")(y), name="cnn")


def transformer():
    x = keras.Input((4, 6))
    e = keras.layers.EinsumDense("abc,cd->abd", (4, 8), bias_axes="d", activation="relu", name="embed")(x)
    a = keras.layers.MultiHeadAttention(num_heads=2, key_dim=3, name="mha")(e, e)
    y = keras.layers.Add(name="residual")([e, a])
    y = keras.layers.LayerNormalization(name="norm")(y)
    y = keras.layers.MaxPooling1D(2, name="pool")(y)
    y = keras.layers.Flatten(name="flat")(y)
    return keras.Model(x, keras.layers.Dense(5, name="head")(y), name="transformer")


def mixer():
    """A particle-style MLP-mixer: token mixing through ``Permute``, channel mixing, global average pooling; beside
    it, a deep-sets maximum over the tokens (``GlobalMaxPooling1D``) and the tokens' score matrix (``Dot``)."""
    x = keras.Input((8, 6))
    t = keras.layers.Permute((2, 1), name="tokens")(x)
    t = keras.layers.EinsumDense("abc,cd->abd", (6, 8), bias_axes="d", activation="relu", name="token_mix")(t)
    y = keras.layers.Permute((2, 1), name="channels")(t)
    y = keras.layers.EinsumDense("abc,cd->abd", (8, 6), bias_axes="d", activation="relu", name="channel_mix")(y)
    scores = keras.layers.Flatten(name="flat_s")(keras.layers.Dot((2, 2), name="scores")([x, y]))  # (64,)
    pooled = [keras.layers.GlobalAveragePooling1D(name="pool")(y), keras.layers.GlobalMaxPooling1D(name="max")(y)]
    y = keras.layers.Concatenate(name="cat")([*pooled, scores])
    return keras.Model(x, keras.layers.Dense(5, name="head")(y), name="mixer")


def cnn_gap():
    """A CNN of a depthwise and a separable convolution ending in global average pooling over a 4x4 feature map,
    global max pooling kept 2-D, and rows read as steps (``TimeDistributed`` Conv1D and Dense)."""
    x = keras.Input((6, 6, 2))
    y = keras.layers.DepthwiseConv2D(3, padding="same", activation="relu", name="dw")(x)
    y = keras.layers.SeparableConv2D(4, 3, activation="relu", name="sep")(y)                       # (4, 4, 4)
    a = keras.layers.GlobalAveragePooling2D(name="gap")(y)
    m = keras.layers.Flatten(name="flat")(keras.layers.GlobalMaxPooling2D(keepdims=True, name="gmp")(y))
    r = keras.layers.TimeDistributed(keras.layers.Conv1D(3, 2, activation="relu"), name="rows")(y)  # (4, 3, 3)
    r = keras.layers.Flatten(name="flat_r")(keras.layers.TimeDistributed(keras.layers.Dense(4), name="cells")(r))
    y = keras.layers.Concatenate(name="both")([a, m, r])
    return keras.Model(x, keras.layers.Dense(5, name="head")(y), name="cnn_gap")


def conv1d_resampling():
    """A 1-D conv net with zero padding, cropping and upsampling."""
    x = keras.Input((8, 2))
    y = keras.layers.ZeroPadding1D(1, name="pad")(x)
    y = keras.layers.Conv1D(4, 3, activation="relu", name="conv")(y)
    y = keras.layers.UpSampling1D(2, name="up")(keras.layers.Cropping1D((1, 2), name="crop")(y))
    return keras.Model(x, keras.layers.Dense(5, name="head")(keras.layers.Flatten(name="flat")(y)),
                       name="conv1d_resampling")


def tokens():
    """Integer tokens through an ``Embedding`` (their input gets no ``HQuantize``), pooled, beside float features."""
    features, ids = keras.Input((4,), name="features"), keras.Input((8,), dtype="int32", name="ids")
    embed = keras.layers.Embedding(12, 4, keras.initializers.RandomNormal(stddev=1.0), name="embed")
    pooled = keras.layers.GlobalAveragePooling1D(name="pool")(embed(ids))
    y = keras.layers.Concatenate(name="cat")([pooled, features])
    return keras.Model([features, ids], keras.layers.Dense(5, name="head")(y), name="tokens")


def activations():
    """Keras' activation layers with options, each after a Dense (what ``HActivation`` tabulates), a ``PReLU``, an
    ``Average`` and an inner product of vectors (``Dot``)."""
    x = keras.Input((6,))
    y = keras.layers.ReLU(max_value=2.0, name="relu_max")(keras.layers.Dense(8, name="d1")(x))
    y = keras.layers.Average(name="avg")([y, keras.layers.Dense(8, name="d1b")(y)])
    y = keras.layers.LeakyReLU(0.125, name="leaky")(keras.layers.Dense(8, name="d2")(y))
    y = keras.layers.ELU(0.5, name="elu")(keras.layers.Dense(8, name="d3")(y))
    y = keras.layers.PReLU(keras.initializers.Constant(0.25), name="prelu")(y)
    y = keras.layers.ReLU(negative_slope=0.25, threshold=0.5, name="relu_cut")(keras.layers.Dense(8, name="d4")(y))
    inner = keras.layers.Dot(1, name="inner")([y, keras.layers.Dense(8, name="lin")(y)])            # (1,)
    y = keras.layers.Concatenate(name="cat")([y, inner])
    return keras.Model(x, keras.layers.Softmax(name="softmax")(keras.layers.Dense(5, name="head")(y)),
                       name="activations")


def data(model, n=1000, seed=1):
    """Inputs of ``model``: normal floats, and integer tokens of a 12-word vocabulary for an integer input."""
    rng = np.random.default_rng(seed)
    arrays = [rng.integers(0, 12, size=(n, *t.shape[1:])).astype("int32") if "int" in t.dtype else
              rng.normal(size=(n, *t.shape[1:])).astype("float32") for t in model.inputs]
    return arrays if len(arrays) > 1 else arrays[0]


@pytest.mark.parametrize("build, types", [
    (mlp, {"dense1": hl.HDense, "dense2": hl.HDenseBatchNorm, "relu": hl.HActivation, "head": hl.HDense,
           "head_activation": hl.HSoftmax}),
    (cnn, {"conv": hl.HConv2DBatchNorm, "relu": hl.HActivation, "pool": hl.PMaxPooling2D, "flat": hl.PFlatten,
           "hidden": hl.HDense, "hidden_bn": hl.HBatchNormalization, "head": hl.HDense,
           "head_activation": hl.HActivation}),
    (transformer, {"embed": hl.HEinsumDense, "mha": hl.HMultiHeadAttention, "residual": hl.HAdd,
                   "norm": hl.HLayerNormalization, "pool": hl.PMaxPooling1D, "flat": hl.PFlatten,
                   "head": hl.HDense}),
    (mixer, {"tokens": hl.PPermute, "token_mix": hl.HEinsumDense, "channels": hl.PPermute,
             "pool": hl.PGlobalAveragePooling1D, "max": hl.PGlobalMaxPooling1D, "scores": hl.HEinsum}),
    (cnn_gap, {"gap": hl.PGlobalAveragePooling2D, "gmp": hl.PGlobalMaxPooling2D, "both": hl.PConcatenate,
               "dw": hl.HDepthwiseConv2D, "sep": hl.HSeparableConv2D, "rows": hl.HConv2D, "cells": hl.HDense}),
    (conv1d_resampling, {"pad": hl.PZeroPadding1D, "conv": hl.HConv1D, "crop": hl.PCropping1D,
                         "up": hl.PUpSampling1D}),
    (tokens, {"embed": hl.HEmbedding, "pool": hl.PGlobalAveragePooling1D, "features_q": hl.HQuantize}),
    (activations, {"avg": hl.HAverage, "relu_max": hl.HActivation, "leaky": hl.HActivation, "elu": hl.HActivation,
                   "relu_cut": hl.HActivation, "prelu": hl.HPReLU, "softmax": hl.HSoftmax,
                   "inner": hl.HEinsum, "inner_in0": hl.PReshape}),
], ids=["mlp", "cnn", "transformer", "mixer", "cnn_gap", "conv1d_resampling", "tokens",
                                  "activations"])
def test_maps_layers_and_computes_what_the_float_model_computes(build, types):
    keras.utils.set_random_seed(0)
    model = build()
    x = data(model)
    moved(model)
    h = hgq.quantize_model(model, kq_conf=WIDE, paq_conf=WIDE)
    layers = {layer.name: layer for layer in h.layers}
    assert {name: type(layers[name]) for name in types} == types
    assert not {"drop", "conv_bn", "dense2_bn", "ids_q"} & set(layers)
    assert all(isinstance(layers.get(f"{t.name}_q"), hl.HQuantize) for t in model.inputs if t.name != "ids")
    if model.name == "mlp":
        assert np.array_equal(layers["dense2"].moving_mean, model.get_layer("dense2_bn").moving_mean)
        assert np.array_equal(layers["head"].kernel, model.get_layer("head").kernel)
    elif model.name == "cnn":
        assert np.array_equal(layers["conv"].kernel, model.get_layer("conv").kernel)
        assert np.array_equal(layers["conv"].moving_variance, model.get_layer("conv_bn").moving_variance)
        assert np.array_equal(layers["hidden_bn"].moving_mean, model.get_layer("hidden_bn").moving_mean)
    elif model.name == "cnn_gap":
        assert np.array_equal(layers["sep"].part("pointwise").kernel, model.get_layer("sep").pointwise_kernel)
        assert np.array_equal(layers["rows"].kernel[0], model.get_layer("rows").layer.kernel)
    elif model.name == "tokens":
        assert np.array_equal(layers["embed"].embeddings, model.get_layer("embed").embeddings)
    elif model.name == "transformer":
        float_mha, h_mha = model.get_layer("mha"), layers["mha"]
        assert np.array_equal(h_mha.part("output").kernel, float_mha.weights[6])
        assert np.array_equal(h_mha.part("key").bias, float_mha.weights[3])
        assert np.array_equal(layers["norm"].ln_gamma, model.get_layer("norm").gamma)
    # 14 fractional bits everywhere: the H-model computes the float model's function, up to the softmax tables
    first = keras.tree.map_structure(lambda a: a[:200], x)
    np.testing.assert_allclose(h.predict(first, verbose=0), model.predict(first, verbose=0), atol=0.05)


BUILDS = [mlp, cnn, transformer, mixer, cnn_gap, conv1d_resampling, tokens, activations]


def trained_case(build, bops):
    """The float model quantized, trained and calibrated (the mapping test trains the float models first):
    ``(h, proxy, x)``; ``bops[build]`` the H-model's BOPs before calibration."""
    keras.utils.set_random_seed(0)
    model = build()
    x = data(model)
    h = fitted(hgq.quantize_model(model, beta=1e-5, paq_conf={"init_bw": 4}), x)
    bops[build] = hgq.total_bops(h)
    hgq.trace_minmax(h, x)
    return h, hgq.to_proxy_model(h), x


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    """Every trained model's proxy, compiled side by side as one hls4ml project (trained on first request);
    ``projects.bops``: their H-models' BOPs before calibration."""
    projects = SideBySide(tmp_path_factory.mktemp("test_quantize_model"))
    projects.bops = {}
    for build in BUILDS:
        projects.add(build, lambda build=build: trained_case(build, projects.bops))
    return projects


@pytest.mark.hls4ml
@pytest.mark.xdist_group("test_quantize_model")  # the worker that compiles the shared project checks every model
@pytest.mark.parametrize("build", BUILDS, ids=[b.__name__ for b in BUILDS])
def test_trained_and_calibrated_is_bit_exact_with_hls4ml(build, projects):
    h, proxy, x, part = projects(build)
    assert projects.bops[build] > 0
    check_bit_exact(proxy, x, part, model=h, scales=(4.0,))


@pytest.mark.hls4ml
@pytest.mark.xdist_group("test_quantize_model")
@pytest.mark.parametrize("build", [cnn_gap, tokens, activations, transformer],
                         ids=["cnn_gap", "tokens", "activations", "transformer"])
def test_the_cost_report_covers_the_new_layers(build, projects):
    """Depthwise, separable, time-distributed, embedding, PReLU and layer normalization layers in the cost report of
    the trained H-model and of its proxy: their parameters, weight memory and BOPs (the H-model's equal to the layers'
    own)."""
    h, proxy, x, _ = projects(build)
    records = {r.name: r for r in profile(h, x).records}
    names = {"cnn_gap": ["dw", "sep", "rows", "cells"], "tokens": ["embed"], "activations": ["prelu"],
             "transformer": ["norm"]}
    for name in names[build.__name__]:
        record, layer = records[name], h.get_layer(name)
        assert record.params > 0 and record.weight_memory_bits > 0, record
        assert record.bops == layer.bops(), record
    proxy_records = {r.name: r for r in profile(proxy, x).records}
    assert all(proxy_records[n].params > 0 for n in names[build.__name__] if n != "sep")
    assert build is not cnn_gap or proxy_records["sep_pointwise"].bops > 0


def test_options_reach_the_layers():
    keras.utils.set_random_seed(0)
    model = transformer()
    h = hgq.quantize_model(model, beta=1e-5, kq_conf={"init_bw": 3}, input_conf={"init_bw": 7},
                           layers={"head": {"beta": 1e-3, "kq_conf": {"init_bw": 5}}})
    mha, head = h.get_layer("mha"), h.get_layer("head")
    assert all(part.beta == pytest.approx(1e-5) for part in mha.parts())
    assert head.beta == pytest.approx(1e-3)
    assert float(np.max(head.kq.fractional_bits())) == 5.0
    assert float(np.max(mha.part("query").kq.fractional_bits())) == 3.0
    assert float(np.max(h.layers[1].paq.fractional_bits())) == 7.0


def test_refusals():
    image = keras.Input((3, 3, 2))
    with pytest.raises(ValueError, match=r"'gap': it averages 9 positions .*not a power of two"):
        hgq.quantize_model(keras.Model(image, keras.layers.GlobalAveragePooling2D(name="gap")(image)))
    with pytest.raises(ValueError, match=r"'up': interpolation='bilinear'; only 'nearest'"):
        hgq.quantize_model(keras.Model(image, keras.layers.UpSampling2D(interpolation="bilinear", name="up")(image)))
    ids = keras.Input((4,), dtype="int32")
    with pytest.raises(ValueError, match=r"Embedding 'emb' has mask_zero=True; hls4ml computes no mask"):
        hgq.quantize_model(keras.Model(ids, keras.layers.Embedding(5, 2, mask_zero=True, name="emb")(ids)))
    x = keras.Input((4, 6))
    with pytest.raises(ValueError, match=r"Dot 'cos' has normalize=True"):
        hgq.quantize_model(keras.Model(x, keras.layers.Dot(2, normalize=True, name="cos")([x, x])))
    norm = keras.Model(x, keras.layers.RMSNormalization(name="norm")(x))
    with pytest.raises(ValueError, match=r"layer 'norm' of type RMSNormalization cannot be quantized; "
                                         r"quantize_model maps .*MultiHeadAttention"):
        hgq.quantize_model(norm)
    with pytest.raises(ValueError, match=r"layers names 'nowhere'"):
        hgq.quantize_model(transformer(), layers={"nowhere": {}})
    with pytest.raises(ValueError, match=r"layers\['head'\] has unknown keys \['bits'\]"):
        hgq.quantize_model(transformer(), layers={"head": {"bits": 3}})
    with pytest.raises(ValueError, match=r"already holds hgq layers"):
        hgq.quantize_model(hgq.quantize_model(transformer()))
    gated = keras.Model(x, keras.layers.MultiHeadAttention(2, 3, use_gate=True, name="gated")(x, x))
    with pytest.raises(ValueError, match=r"MultiHeadAttention 'gated' has use_gate=True"):
        hgq.quantize_model(gated)
    masked = keras.Model(x, keras.layers.MultiHeadAttention(2, 3, name="causal")(x, x, use_causal_mask=True))
    with pytest.raises(ValueError, match=r"'causal'.*causal masks"):
        hgq.quantize_model(masked)
    shared = keras.layers.Dense(6, name="twice")
    with pytest.raises(ValueError, match=r"twice"):
        hgq.quantize_model(keras.Model(x, shared(shared(x))))
    with pytest.raises(hgq.specs.UnsupportedLayerError, match=r"'mha'.*hgq.quantize_model"):
        profile(transformer())
