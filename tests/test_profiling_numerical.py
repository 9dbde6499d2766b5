"""hgq.profiling.numerical: weight/activation distributions, bit-width panel and the types' grey boxes."""

import io
import sys

import numpy as np
import pytest

from conftest import trained_mlp
from plot_checks import (STYLES, axes_named, check_rows_drawn, median_x, nonzero_abs, precision_box, precision_boxes,
                         quantizer_box, ylabels)

pytest.importorskip("matplotlib")

MLP_WEIGHTS = ["dense1/kernel", "dense1/bias", "dense2/kernel", "out/kernel", "out/bias"]
MLP_LAYERS = ["inp_q", "dense1", "dense2", "act", "out"]


def mlp_activations(model):
    """Activation rows of the mlp: its input layer (named by Keras' global counter) and every layer."""
    return [model.layers[0].name, *MLP_LAYERS]


# hls4ml's ModelGraph of the fixture's proxy: which quantizers hls4ml keeps as layers depends on the trained widths
# (a uniform one is fused into the layer before), which differ by backend; these tests name those layers
ONCE = pytest.mark.once


# -- fixtures ---------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mlp_setup(tmp_path_factory):
    """A trained, calibrated mlp, its proxy and the proxy's hls4ml ModelGraph (converted once, not compiled)."""
    import hgq
    from hgq.proxy import convert_to_hls4ml

    model, x = trained_mlp(epochs=1)
    proxy = hgq.to_proxy_model(model)
    hls_model = convert_to_hls4ml(proxy, tmp_path_factory.mktemp("numerical") / "prj")
    return model, x[:512], proxy, hls_model


# -- the four combinations x three styles -----------------------------------------------------------------------

COMBINATIONS = {  # name: (model, hls_model, X, grey boxes, activations)
    "model": (True, False, False),
    "hls_model": (False, True, False),
    "model+hls_model": (True, True, False),
    "model+X": (True, False, True),
    "all": (True, True, True),
    "hls_model+X": (False, True, True),
}


@pytest.mark.parametrize("plot", STYLES)
@pytest.mark.parametrize("combination", list(COMBINATIONS))
def test_combinations(mlp_setup, combination, plot):
    import hgq
    from hgq.profiling import numerical

    model, x, proxy, _ = mlp_setup
    use_model, use_hls, use_x = COMBINATIONS[combination]
    wfig, afig = numerical(model=model if use_model else None, hls_model=proxy if use_hls else None,
                           X=x if use_x else None, plot=plot)

    weights = axes_named(wfig, "weights")
    assert ylabels(weights) == MLP_WEIGHTS
    check_rows_drawn(weights, MLP_WEIGHTS, plot)
    boxes = precision_boxes(weights)
    assert sorted(boxes) == (sorted(MLP_WEIGHTS) if use_hls else [])

    bits = axes_named(wfig, "bits")
    if use_model:  # the bit-width panel of an H-model: one row per kernel and per output quantizer
        expected = [f"{name}/{kind}" for name, entry in hgq.bit_width_summary(model).items()
                    for kind in ("kernel", "output") if kind in entry]
        assert ylabels(bits) == expected
        check_rows_drawn(bits, expected, plot)
        assert precision_boxes(bits) == {}
    else:
        assert bits is None and len(wfig.axes) == 1

    if not use_x:
        assert afig is None
        return
    activations = axes_named(afig, "activations")
    if use_model:
        assert ylabels(activations) == mlp_activations(model)
        boxes = precision_boxes(activations)
        # H-layer outputs get the type of their proxy quantizer; the float input has none
        expected = {name: quantizer_box(proxy.get_layer(f"{name}_q" if name != "inp_q" else name))
                    for name in MLP_LAYERS} if use_hls else {}
        assert boxes == expected
    else:  # the proxy's own layers; only its quantizers have a type
        names = [layer.name for layer in proxy.layers]
        assert ylabels(activations) == names
        fpq = [layer for layer in proxy.layers if type(layer).__name__ == "FixedPointQuantizer"]
        assert precision_boxes(activations) == {layer.name: quantizer_box(layer) for layer in fpq}
    check_rows_drawn(activations, ylabels(activations), plot)
    png = io.BytesIO()
    afig.savefig(png, format="png", dpi=40)
    assert png.getvalue()[:4] == b"\x89PNG"


def test_boxplot_statistics_and_weight_boxes(mlp_setup):
    """Medians are log2 of the median non-zero |value|; whiskers span min..max; boxes span the minimal type."""
    from hgq.profiling import numerical

    model, x, proxy, _ = mlp_setup
    wfig, afig = numerical(model=model, hls_model=proxy, X=x)
    ax = axes_named(wfig, "weights")
    kernel = nonzero_abs(proxy.get_layer("dense1").kernel)  # what the proxy (and hls4ml) holds
    assert median_x(ax, "dense1/kernel") == pytest.approx(np.log2(np.median(kernel)))
    (box,) = [p for p in ax.patches if p.get_gid() == "box:dense1/kernel"]
    q1, q3 = np.log2(np.percentile(kernel, [25, 75]))
    assert (box.get_x(), box.get_x() + box.get_width()) == pytest.approx((q1, q3))
    xs = np.concatenate([ln.get_xdata() for ln in ax.lines])
    assert xs.min() <= np.log2(kernel.min()) and xs.max() >= np.log2(kernel.max())
    # the smallest fixed-point type holding the kernel exactly: f fractional and i integer bits (sign excluded)
    values = np.asarray(proxy.get_layer("dense1").kernel, dtype=np.float64)
    f = next(f for f in range(-8, 40) if np.all(values * 2.0**f == np.round(values * 2.0**f)))
    i = next(i for i in range(-40, 40) if values.max() <= 2.0**i - 2.0**-f and values.min() >= -(2.0**i))
    assert precision_boxes(ax)["dense1/kernel"] == (-f, i)
    # activations: the median of the H-model's output of dense2, computed independently
    import keras

    y = keras.Model(model.inputs, model.get_layer("dense2").output).predict(x, verbose=0)
    assert median_x(axes_named(afig, "activations"), "dense2") == pytest.approx(np.log2(np.median(nonzero_abs(y))))
    # bit widths: median of the kernel's total bits
    layer = model.get_layer("out")
    bits = np.asarray(layer.kq.bits(layer.quantized_kernel(False))).reshape(-1)
    assert median_x(axes_named(wfig, "bits"), "out/kernel") == pytest.approx(np.median(bits))


def test_histogram_counts_per_power_of_two(mlp_setup):
    from hgq.profiling import numerical

    model, x, _, _ = mlp_setup
    _, afig = numerical(model=model, X=x, plot="histogram")
    ax = axes_named(afig, "activations")
    (steps,) = [p for p in ax.patches if p.get_gid() == f"hist:{model.layers[0].name}"]
    tops, edges, baseline = steps.get_data()
    logs = np.log2(nonzero_abs(x))
    assert np.all(edges == np.round(edges)) and edges[0] <= logs.min() and edges[-1] > logs.max()
    counts, _ = np.histogram(logs, bins=edges)
    heights = baseline - tops
    assert heights / heights.max() == pytest.approx(counts / counts.max())


# -- the hls4ml ModelGraph --------------------------------------------------------------------------------------

def test_modelgraph_boxes_are_its_types(mlp_setup):
    from hgq.profiling import numerical

    model, x, proxy, hls_model = mlp_setup
    wfig, afig = numerical(model=model, hls_model=hls_model, X=x, plot="violinplot")
    names = {"kernel": "weight", "bias": "bias"}
    expected = {label: precision_box(hls_model.graph[label.split("/")[0]].weights[names[label.split("/")[1]]]
                                     .type.precision) for label in MLP_WEIGHTS}
    boxes = precision_boxes(axes_named(wfig, "weights"))
    assert boxes == expected
    # hls4ml infers for each proxy weight the smallest type holding it: the proxy's boxes are the same
    assert precision_boxes(axes_named(numerical(hls_model=proxy)[0], "weights")) == expected
    # outputs: the type of the layer's quantizer in the graph; the input: hls4ml's input type
    boxes = precision_boxes(axes_named(afig, "activations"))
    graph = hls_model.graph
    expected = {name: precision_box(graph[f"{name}_q" if f"{name}_q" in graph else name]
                                    .get_output_variable().type.precision) for name in MLP_LAYERS}
    expected[model.layers[0].name] = precision_box(hls_model.get_input_variables()[0].type.precision)
    assert boxes == expected


@ONCE
def test_modelgraph_alone(mlp_setup):
    """Weights from the graph itself (its all-zero bias of dense2 is left out); activations from the Keras proxy
    it was converted from (no compilation)."""
    from hgq.profiling import numerical

    _, x, proxy, hls_model = mlp_setup
    wfig, afig = numerical(hls_model=hls_model, X=x, plot="boxplot")
    ax = axes_named(wfig, "weights")
    assert ylabels(ax) == MLP_WEIGHTS
    assert median_x(ax, "out/kernel") == pytest.approx(np.log2(np.median(nonzero_abs(proxy.get_layer("out").kernel))))
    activations = axes_named(afig, "activations")
    assert ylabels(activations) == [layer.name for layer in proxy.layers]
    boxes = precision_boxes(activations)
    assert boxes["dense1_q"] == precision_box(hls_model.graph["dense1_q"].get_output_variable().type.precision)


def test_proxy_weight_boxes_are_the_types_hls4ml_infers(tmp_path):
    """A bias of zeros and small values: hls4ml's bit-exact flow counts each zero as (0, 0, 0), so the bias type
    has i = 0 (ufixed<3,0> for {0, 1/8, 1/4}), wider than the smallest type holding the values (ufixed<2,-1>).
    The proxy's boxes follow hls4ml, weight by weight."""
    import keras

    import hgq
    from hgq.layers import HDense, HQuantize
    from hgq.profiling import numerical
    from hgq.proxy import convert_to_hls4ml

    inp = keras.Input((2,))
    dense = HDense(3, name="d")
    model = keras.Model(inp, dense(HQuantize(name="q")(inp)))
    dense.kernel.assign(np.array([[0.5, 0.0, -0.25], [1.5, 0.75, 0.0]]))
    dense.bias.assign(np.array([-0.125, 0.0, 0.125]))  # exported + 1/8 (rounding half up absorbed by the bias)
    x = np.random.default_rng(4).normal(size=(64, 2)).astype("float32")
    hgq.trace_minmax(model, x)
    proxy = hgq.to_proxy_model(model)
    assert keras.ops.convert_to_numpy(proxy.get_layer("d").bias).tolist() == [0.0, 0.125, 0.25]
    hls_model = convert_to_hls4ml(proxy, tmp_path / "prj")
    assert str(hls_model.graph["d"].weights["bias"].type.precision).startswith("ufixed<3,0,")
    expected = {f"d/{name}": precision_box(hls_model.graph["d"].weights[key].type.precision)
                for name, key in (("kernel", "weight"), ("bias", "bias"))}
    for profiled in (numerical(hls_model=proxy)[0], numerical(model=model, hls_model=proxy)[0]):
        assert precision_boxes(axes_named(profiled, "weights")) == expected


# -- errors -----------------------------------------------------------------------------------------------------

def test_errors(mlp_setup):
    from hgq.profiling import numerical

    model, x, proxy, _ = mlp_setup
    with pytest.raises(ValueError, match=r"plot='pie'.*boxplot, histogram, violinplot"):
        numerical(model=model, plot="pie")
    with pytest.raises(ValueError, match="nothing to profile"):
        numerical()
    with pytest.raises(ValueError, match=r"shape \(512, 5\).*expects shape \(None, 16\)"):
        numerical(model=model, X=x[:, :5])
    with pytest.raises(ValueError, match="hls_model must be a proxy model .* got builtins.dict"):
        numerical(model=model, hls_model={"not": "a model"})
    with pytest.raises(ValueError, match="is not a proxy model; it is an H-model"):
        numerical(hls_model=model)


def test_import_without_matplotlib_needs_it_only_on_use(monkeypatch):
    import hgq.profiling as profiling

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match="hgq.profiling.numerical needs matplotlib"):
        profiling.numerical(model=object())


# -- hls4ml's own profiler on a proxy ---------------------------------------------------------------------------

@pytest.mark.hls4ml
@ONCE
def test_hls4ml_profiler_on_proxy(mlp_setup, monkeypatch, tmp_path):
    """hls4ml.model.profiling.numerical on our proxy and its ModelGraph, with the workarounds of docs/profiling.md
    (it imports seaborn, installed by the ``test`` extra)."""
    import matplotlib

    matplotlib.use("Agg")
    from hls4ml.model import profiling

    model, x, proxy, hls_model = mlp_setup
    monkeypatch.chdir(tmp_path)  # hls4ml writes a temporary project into the working directory
    # hls4ml labels a Keras layer's weights 'w', 'b' and fails on the FixedPointQuantizer's three arrays
    # (keep_negative, bits, integers) when it profiles the weights of the Keras model, i.e. without hls_model.
    with pytest.raises(IndexError):  # if hls4ml fixes this, drop workaround 1 from docs/profiling.md
        profiling.numerical(model=proxy)
    # Workaround 1: a FixedPointQuantizer holds types, not weights.
    monkeypatch.setitem(profiling.keras_process_layer_map, "FixedPointQuantizer", lambda layer: ([], []))
    wp, _, ap, _ = profiling.numerical(model=proxy, X=x[:64])
    assert {t.get_text() for t in wp.axes[0].get_yticklabels()} == {"dense1/w", "dense1/b", "dense2/w", "out/w",
                                                                    "out/b"}
    assert {"inp_q", "dense1_q", "out_q"} <= {t.get_text() for t in ap.axes[0].get_yticklabels()}
    figures = [wp, ap]
    # With the ModelGraph the weights come from it; its activations need every layer traced (workaround 2).
    for layer in hls_model.get_layers():
        layer.set_attr("trace", True)
    figures += profiling.numerical(model=proxy, hls_model=hls_model, X=x[:64])
    assert all(fig is not None for fig in figures)
    weight_labels = {t.get_text() for t in figures[3].axes[0].get_yticklabels()}
    assert weight_labels == {"dense1/w", "dense1/b", "dense2/w", "out/w", "out/b"}
    activation_labels = {t.get_text() for t in figures[5].axes[0].get_yticklabels()}
    assert {"inp_q", "dense1_q", "out_q"} <= activation_labels
    import matplotlib.pyplot as plt

    for fig in figures:
        plt.close(fig)


@pytest.mark.hls4ml
@ONCE
def test_modelgraph_without_keras_model_is_traced(mlp_setup, monkeypatch):
    """A ModelGraph that does not carry its Keras model: its activations come from hls4ml's C simulation trace."""
    from hgq.profiling import numerical

    _, x, proxy, hls_model = mlp_setup
    monkeypatch.delitem(hls_model.config.config, "KerasModel")
    _, afig = numerical(hls_model=hls_model, X=x[:32])
    ax = axes_named(afig, "activations")
    labels = ylabels(ax)
    assert labels[0] == hls_model.get_input_variables()[0].name and {"inp_q", "dense1", "out_q"} <= set(labels)
    # the traced output of the last quantizer equals the proxy's output
    y = proxy.predict(x[:32], verbose=0)
    assert median_x(ax, "out_q") == pytest.approx(np.log2(np.median(nonzero_abs(y))))
