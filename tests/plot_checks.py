"""What the profiling tests read off matplotlib figures (hgq.profiling.numerical tags its artists with gids)."""

import numpy as np

STYLES = ("boxplot", "histogram", "violinplot")


def axes_named(fig, name):
    found = [ax for ax in fig.axes if ax.get_label() == name]
    return found[0] if found else None


def ylabels(ax):
    return [t.get_text() for t in ax.get_yticklabels()]


def precision_boxes(ax):
    """``{row label: (low, high)}`` of the grey boxes."""
    return {p.get_gid().split(":", 1)[1]: (p.get_x(), p.get_x() + p.get_width())
            for p in ax.patches if (p.get_gid() or "").startswith("precision:")}


def median_x(ax, label):
    (line,) = [ln for ln in ax.lines if ln.get_gid() == f"median:{label}"]
    xs = line.get_xdata()
    assert xs[0] == xs[1]
    return xs[0]


def nonzero_abs(values):
    a = np.abs(np.asarray(values, dtype=np.float64)).reshape(-1)
    return a[a != 0]


def quantizer_box(layer):
    """(-f, i) of the union type of a FixedPointQuantizer, computed here from its stored types."""
    k, b, integers = (np.asarray(v).reshape(-1) for v in layer.kbi())
    live = b > 0
    return -float((b - integers)[live].max()), float((integers - k)[live].max())


def precision_box(precision):
    signed = int(precision.signed)
    return -float(precision.width - precision.integer), float(precision.integer - signed)


def check_rows_drawn(ax, labels, plot):
    """Every row has the style's artist (boxes, histogram steps, violins) and, except histograms, a median."""
    prefix = {"boxplot": "box", "histogram": "hist", "violinplot": "violin"}[plot]
    gids = {a.get_gid() for a in ax.get_children()}
    for label in labels:
        assert f"{prefix}:{label}" in gids, label
        if plot != "histogram":
            assert f"median:{label}" in gids, label
