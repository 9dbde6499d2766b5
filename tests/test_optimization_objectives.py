"""hgq.optimization attributes and objectives: resources and savings against hand counts on tiny layers."""

import hls4ml
import keras
import numpy as np
import pytest

from hgq import trace_minmax
from hgq.layers import HConv2D, HDense, HQuantize, PFlatten
from hgq.optimization.attributes import (
    get_attributes_from_keras_model,
    get_attributes_from_keras_model_and_hls4ml_config,
)
from hgq.optimization.config import SUPPORTED_STRUCTURES as S
from hgq.optimization.knapsack import solve_knapsack
from hgq.optimization.objectives import (
    BOPsEstimator,
    GPUFLOPEstimator,
    ParameterEstimator,
    VivadoDSPEstimator,
    VivadoFFEstimator,
    VivadoMultiObjectiveEstimator,
)
from hgq.optimization.objectives.bops import group_bops


def plain_model():
    """Conv2D 3x3x2->3 on 6x6x2 (54 weights, 4x4 outputs), Conv1D 3x2->4 on 8x2, Dense 4->3."""
    a, b, c = keras.Input((6, 6, 2)), keras.Input((8, 2)), keras.Input((4,), name="vec")
    outs = [keras.layers.Flatten(name="flatten")(keras.layers.Conv2D(3, 3, name="conv2d")(a)),
            keras.layers.Flatten(name="flatten_1d")(keras.layers.Conv1D(4, 3, name="conv1d")(b)),
            keras.layers.Dense(3, name="dense")(c)]
    return keras.Model([a, b, c], keras.layers.Concatenate()(outs))


@pytest.fixture(scope="module")
def model():
    return plain_model()


def hls_attrs(model, strategy="Resource", rf=2, weight="fixed<16,6>", io_type="io_parallel"):
    config = hls4ml.utils.config_from_keras_model(model, granularity="name", default_reuse_factor=4)
    config["IOType"] = io_type
    config["Model"]["Strategy"] = strategy
    for name in ("conv2d", "conv1d", "dense"):
        config["LayerName"][name]["ReuseFactor"] = rf
        config["LayerName"][name]["Precision"]["weight"] = weight
    return get_attributes_from_keras_model_and_hls4ml_config(model, config)


def use(objective, attrs):
    ok, opt = objective.is_layer_optimizable(attrs)
    if ok:
        attrs.optimization_attributes = opt
    return ok, opt


def test_keras_attributes(model):
    attrs = get_attributes_from_keras_model(model)
    assert attrs["conv2d"].weight_shape == (3, 3, 2, 3) and attrs["conv2d"].output_shape == (4, 4, 3)
    assert attrs["conv1d"].weight_shape == (3, 2, 4) and attrs["conv1d"].output_shape == (6, 4)
    assert attrs["dense"].weight_shape == (4, 3) and attrs["dense"].inbound_layers == ["vec"]
    assert attrs["flatten"].weight_shape == () and ParameterEstimator.is_layer_optimizable(attrs["flatten"]) == (
        False, None)


def test_parameters(model):
    attrs = get_attributes_from_keras_model(model)["dense"]
    assert use(ParameterEstimator, attrs)[1].structure_type == S.UNSTRUCTURED
    assert ParameterEstimator.layer_resources(attrs) == [12] and ParameterEstimator.layer_savings(attrs) == [1]
    attrs.optimization_attributes.structure_type = S.STRUCTURED
    assert ParameterEstimator.layer_savings(attrs) == [4]
    assert ParameterEstimator.group_resources(attrs, 3).tolist() == [[4, 4, 4]]


def test_gpu_flops(model):
    attrs = get_attributes_from_keras_model(model)
    expected = {"dense": (2 * 12 + 3, 2 * 4 + 1),  # 2|W| + n_out; one neuron: 2 n_in + 1
                "conv2d": (2 * 54 * 16 + 3, 2 * 18 * 16 + 1),  # 16 output pixels, filters of 3x3x2
                "conv1d": (2 * 24 * 6 + 4, 2 * 6 * 6 + 1)}  # 6 output steps, filters of 3x2
    for name, (resources, savings) in expected.items():
        assert use(GPUFLOPEstimator, attrs[name])[1].structure_type == S.STRUCTURED
        assert GPUFLOPEstimator.layer_resources(attrs[name]) == [resources]
        assert GPUFLOPEstimator.layer_savings(attrs[name]) == [savings]


@pytest.mark.parametrize("rf", [2, 4])
def test_dsp_resource_strategy_patterns(model, rf):
    attrs = hls_attrs(model, rf=rf)
    dense, conv = attrs["dense"], attrs["conv2d"]
    assert dense.args["hls4ml_attributes"].n_in == 4 and conv.args["hls4ml_attributes"].n_in == 18
    ok, opt = use(VivadoDSPEstimator, dense)
    assert ok and opt.structure_type == S.PATTERN and opt.pattern_offset == 12 // rf
    assert VivadoDSPEstimator.layer_resources(dense) == [12 // rf]  # one multiplier per RF weights
    assert VivadoDSPEstimator.layer_savings(dense) == [1]
    use(VivadoDSPEstimator, conv)
    assert VivadoDSPEstimator.layer_resources(conv) == [54 // rf]
    # a pattern: RF consecutive weights of the transposed kernel (kernel.T flattened)
    index = np.arange(12).reshape(4, 3)
    groups = group_bops(index, dense)
    assert groups.tolist() == [int(g.sum()) for g in index.T.reshape(-1).reshape(12 // rf, rf)]


def test_dsp_narrow_weights_and_latency(model):
    narrow = hls_attrs(model, rf=2, weight="fixed<8,3>")["dense"]
    assert VivadoDSPEstimator.is_layer_optimizable(narrow) == (False, None)
    assert VivadoDSPEstimator.layer_resources(narrow) == [0]
    assert VivadoDSPEstimator.layer_resources(hls_attrs(model, rf=2, weight="fixed<9,3>")["dense"]) == [6]
    latency = hls_attrs(model, strategy="Latency", rf=1)["dense"]
    assert use(VivadoDSPEstimator, latency)[1].structure_type == S.UNSTRUCTURED
    assert VivadoDSPEstimator.layer_resources(latency) == [12]
    assert VivadoDSPEstimator.layer_savings(latency) == [1]


def test_multi_objective_and_ff(model):
    dense = hls_attrs(model, rf=2, weight="fixed<18,6>")["dense"]
    assert use(VivadoMultiObjectiveEstimator, dense)[0]
    opt = dense.optimization_attributes
    assert opt.structure_type == S.PATTERN and opt.consecutive_patterns == 2  # 2 x 18 bits = one 36-bit word
    assert VivadoMultiObjectiveEstimator.layer_resources(dense) == [6, 3]  # ceil(12 * 18 / (2 * 36))
    assert VivadoMultiObjectiveEstimator.layer_savings(dense) == [2, 1]
    dense = hls_attrs(model, strategy="Latency", rf=1)["dense"]
    assert use(VivadoFFEstimator, dense)[1].structure_type == S.UNSTRUCTURED
    # weights and outputs in FFs: 12 weights x 16 bits + 3 outputs x 16 bits (default precision for 'auto')
    assert VivadoFFEstimator.layer_resources(dense) == [12 * 16 + 3 * 16]
    assert VivadoFFEstimator.layer_savings(dense) == [16]
    stream = hls_attrs(model, rf=2, io_type="io_stream")["dense"]
    assert VivadoFFEstimator.is_layer_optimizable(stream) == (False, None)


def test_bad_hls_configs(model):
    config = hls4ml.utils.config_from_keras_model(model, granularity="name", default_reuse_factor=4)
    with pytest.raises(ValueError, match=r"lacks IOType.*config\['IOType'\]"):
        get_attributes_from_keras_model_and_hls4ml_config(model, config)
    config["IOType"] = "io_parallel"
    del config["Model"]["Strategy"]
    with pytest.raises(ValueError, match="lacks Model.Strategy"):
        get_attributes_from_keras_model_and_hls4ml_config(model, config)
    with pytest.raises(ValueError, match="got dict of layer attributes; pass the hls4ml config itself"):
        get_attributes_from_keras_model_and_hls4ml_config(model, get_attributes_from_keras_model(model))
    with pytest.raises(ValueError, match="VivadoDSPEstimator needs the hls4ml settings of layer 'dense'"):
        VivadoDSPEstimator.layer_resources(get_attributes_from_keras_model(model)["dense"])


@pytest.fixture(scope="module")
def h_model():
    inp = keras.Input((5, 5, 2))
    x = HQuantize(name="q")(inp)
    x = HConv2D(2, 3, name="hconv", activation="relu")(x)
    x = PFlatten()(x)
    x = HDense(3, name="hdense")(x)
    model = keras.Model(inp, x)
    data = np.random.default_rng(0).normal(size=(128, 5, 5, 2)).astype("float32")
    return model, trace_minmax(model, data, batch_size=128)


def test_bops(h_model):
    model, total = h_model
    attrs = get_attributes_from_keras_model(model)
    assert BOPsEstimator.is_layer_optimizable(attrs["q"]) == (False, None)
    dense = attrs["hdense"]
    assert use(BOPsEstimator, dense)[1].structure_type == S.UNSTRUCTURED
    # hand count: each weight costs (width of its input) x (its width)
    in_bits, w_bits = dense.args["input_bits"].reshape(-1), dense.args["weight_bits"]
    assert dense.args["weight_bops"].tolist() == (in_bits[:, None] * w_bits).astype(int).tolist()
    layers = [attrs["hconv"], dense]
    for a in layers:
        use(BOPsEstimator, a)
    resources = [BOPsEstimator.layer_resources(a)[0] for a in layers]
    assert sum(resources) == pytest.approx(total)  # what trace_minmax counted
    assert resources[0] == pytest.approx(float(model.get_layer("hconv").bops()))
    # the knapsack weighs each weight by its own BOPs
    assert dense.weight_shape == (18, 3)  # 3x3 outputs x 2 filters -> 3
    weights = BOPsEstimator.group_resources(dense, 54)
    assert weights.tolist() == [dense.args["weight_bops"].reshape(-1).tolist()]
    capacity = (0.5 * np.array(BOPsEstimator.layer_resources(dense))).astype(int)
    values = np.abs(model.get_layer("hdense").kernel.numpy()).reshape(-1)
    _, selected = solve_knapsack(values, weights, capacity)
    assert 0 < weights[0, selected].sum() <= capacity[0]
    with pytest.raises(ValueError, match="has 54 groups of its structure, the loop asked for 18"):
        BOPsEstimator.group_resources(dense, 18)


def test_bops_needs_quantized_inputs_and_covers_fused_layers():
    from hgq.layers import HDenseBatchNorm

    inp = keras.Input((4,))
    raw = keras.Model(inp, HDense(3, name="raw_in")(inp))  # its input is not quantized: BOPs unknown
    attrs = get_attributes_from_keras_model(raw)["raw_in"]
    assert BOPsEstimator.is_layer_optimizable(attrs) == (False, None)
    assert ParameterEstimator.is_layer_optimizable(attrs)[0]
    model = keras.Model(inp, HDenseBatchNorm(2, name="fused")(HQuantize()(inp)))
    trace_minmax(model, np.random.default_rng(1).normal(size=(64, 4)).astype("float32"), batch_size=64)
    fused = get_attributes_from_keras_model(model)["fused"]
    assert fused.weight_shape == (4, 2) and BOPsEstimator.is_layer_optimizable(fused)[0]
    assert BOPsEstimator.layer_resources(fused) == [pytest.approx(float(model.get_layer("fused").bops()))]
