"""hgq.profiling.numerical on other models than the MLP (batch norm, several inputs, nested models, a plain Keras
model), and each plot style's renderer on degenerate rows."""

import numpy as np
import pytest

from plot_checks import STYLES, axes_named, median_x, nonzero_abs, precision_boxes, quantizer_box, ylabels

pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def batchnorm_setup():
    import keras

    import hgq
    from hgq.layers import HDense, HDenseBatchNorm, HQuantize

    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(256, 6)).astype("float32")
    y = np.tanh(x[:, :2] * 2).astype("float32")
    inp = keras.Input((6,))
    h = HQuantize(name="q")(inp)
    h = HDenseBatchNorm(8, activation="relu", name="bn")(h)
    out = HDense(2, name="head")(h)
    model = keras.Model(inp, out)
    model.compile("adam", "mse")
    model.fit(x, y, epochs=1, batch_size=64, verbose=0)
    hgq.trace_minmax(model, x)
    return model, x, hgq.to_proxy_model(model)


@pytest.fixture(scope="module")
def multi_input_setup():
    import keras

    import hgq
    from hgq.layers import HAdd, HDense, HQuantize, PConcatenate

    keras.utils.set_random_seed(2)
    a, b = keras.Input((4,), name="in_a"), keras.Input((4,), name="in_b")
    qa, qb = HQuantize(name="qa")(a), HQuantize(name="qb")(b)
    cat = PConcatenate(name="cat")([qa, qb])
    add = HAdd(name="add")([qa, qb])
    out = HAdd(name="sum")([HDense(3, name="d_cat")(cat), HDense(3, name="d_add")(add)])
    model = keras.Model([a, b], out)
    rng = np.random.default_rng(2)
    xs = [rng.normal(size=(128, 4)).astype("float32") for _ in range(2)]
    hgq.trace_minmax(model, xs)
    return model, xs, hgq.to_proxy_model(model)


@pytest.fixture(scope="module")
def nested_setup():
    import keras

    import hgq
    from hgq.layers import HActivation, HAdd, HDense, HQuantize

    keras.utils.set_random_seed(3)
    block = keras.Sequential([keras.Input((6,)), HActivation("relu", name="in_act"), HDense(6, name="in_dense"),
                              HActivation("linear", name="in_lin")], name="block")
    inp = keras.Input((5,))
    h = HDense(6, activation="relu", name="d0")(HQuantize(name="q")(inp))
    out = HDense(2, name="head")(HAdd(name="res")([block(h), h]))
    model = keras.Model(inp, out)
    x = np.random.default_rng(3).normal(size=(128, 5)).astype("float32")
    hgq.trace_minmax(model, x)
    return model, x, hgq.to_proxy_model(model)


def test_batchnorm_layer_shows_exported_weights(batchnorm_setup):
    from hgq.profiling import numerical

    model, x, proxy = batchnorm_setup
    assert len(model.get_layer("bn").weights) >= 6  # kernel, bias, gamma, beta, moving mean and variance, ...
    for plot in STYLES:
        wfig, afig = numerical(model=model, hls_model=proxy, X=x, plot=plot)
        ax = axes_named(wfig, "weights")
        assert ylabels(ax) == ["bn/kernel", "bn/bias", "head/kernel", "head/bias"]
        assert set(precision_boxes(ax)) == set(ylabels(ax))
        assert ylabels(axes_named(afig, "activations"))[1:] == ["q", "bn", "head"]
    fused = nonzero_abs(proxy.get_layer("bn").kernel)
    assert median_x(ax, "bn/kernel") == pytest.approx(np.log2(np.median(fused)))


def test_multi_input_model(multi_input_setup):
    from hgq.profiling import numerical

    model, xs, proxy = multi_input_setup
    wfig, afig = numerical(model=model, hls_model=proxy, X=xs, plot="boxplot")
    assert ylabels(axes_named(wfig, "weights")) == ["d_cat/kernel", "d_cat/bias", "d_add/kernel", "d_add/bias"]
    ax = axes_named(afig, "activations")
    labels = ylabels(ax)
    assert labels[:2] == ["in_a", "in_b"] and set(labels[2:]) == {"qa", "qb", "cat", "add", "d_cat", "d_add", "sum"}
    assert median_x(ax, "in_b") == pytest.approx(np.log2(np.median(np.abs(xs[1]))))
    boxes = precision_boxes(ax)
    assert boxes["add"] == quantizer_box(proxy.get_layer("add_q"))
    assert boxes["qa"] == quantizer_box(proxy.get_layer("qa"))
    assert "cat" not in boxes  # a P-layer has no quantizer of its own
    with pytest.raises(ValueError, match=r"2 input\(s\).*\(None, 4\).*1 array"):
        numerical(model=model, X=xs[0])


def test_nested_model(nested_setup):
    from hgq.profiling import numerical

    model, x, proxy = nested_setup
    wfig, afig = numerical(model=model, hls_model=proxy, X=x, plot="histogram")
    assert ylabels(axes_named(wfig, "weights")) == ["d0/kernel", "d0/bias", "in_dense/kernel", "in_dense/bias",
                                                    "head/kernel", "head/bias"]
    assert set(precision_boxes(axes_named(wfig, "weights"))) == set(ylabels(axes_named(wfig, "weights")))
    assert "in_dense/kernel" in ylabels(axes_named(wfig, "bits"))
    ax = axes_named(afig, "activations")
    labels = ylabels(ax)
    assert "block" not in labels and {"in_act", "in_dense", "in_lin", "res"} <= set(labels)
    assert precision_boxes(ax)["in_dense"] == quantizer_box(proxy.get_layer("in_dense_q"))


def test_raw_keras_model():
    import keras

    from hgq.profiling import numerical

    keras.utils.set_random_seed(4)
    inp = keras.Input((3,), name="x")
    h = keras.layers.Dense(4, activation="relu", name="d1")(inp)
    model = keras.Model(inp, keras.layers.Dense(2, name="d2")(h))
    x = np.random.default_rng(4).normal(size=(64, 3)).astype("float32")
    wfig, afig = numerical(model=model, X=x, plot="violinplot")
    assert len(wfig.axes) == 1  # no bit-width panel without H-layers
    ax = axes_named(wfig, "weights")
    assert ylabels(ax) == ["d1/kernel", "d2/kernel"]  # the zero-initialized biases are left out
    kernel = nonzero_abs(model.get_layer("d1").kernel)
    assert median_x(ax, "d1/kernel") == pytest.approx(np.log2(np.median(kernel)))
    assert ylabels(axes_named(afig, "activations")) == ["x", "d1", "d2"]
    assert precision_boxes(ax) == {}


@pytest.mark.parametrize("plot", STYLES)
@pytest.mark.parametrize("values", [[3.0], [1.0, 1.0, 1.0], [1.0, 1.001, 1.002], [2.0**-20, 1.0, 2.0**20]])
def test_renderers_on_degenerate_rows(plot, values):
    """One value, equal values, a tiny or a huge spread: each style draws the row within its band."""
    from matplotlib.figure import Figure

    from hgq.profiling import plots

    ax = Figure().subplots()
    plots.RENDERERS[plot](ax, 2, np.asarray(values), np.log2, "row", "tab:blue")
    artists = [a for a in ax.get_children() if (a.get_gid() or "").endswith(":row")]
    assert artists
    ax.relim()
    ax.autoscale_view()
    (y0, y1) = sorted(ax.get_ylim())
    assert 2 - 0.5 <= y0 and y1 <= 2 + 0.5
    if plot != "histogram":
        assert median_x(ax, "row") == pytest.approx(np.log2(np.median(values)))
