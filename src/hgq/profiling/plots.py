"""``numerical``: weight and activation distributions on a log2 axis, against what their fixed-point types hold.

Figures are built with ``matplotlib.figure.Figure`` directly (no pyplot, no GUI backend, no global state): save
them with ``fig.savefig(path)``. See ``docs/profiling.md``.
"""

import numpy as np

from .distributions import collect
from .ranges import range_of
from .optional import require

PLOT_STYLES = ("boxplot", "histogram", "violinplot")

#: Face colour of the precision boxes (their ``gid`` is ``precision:<row label>``).
PRECISION_COLOR = "#a0a0a0"
ROW_HALF_HEIGHT = 0.4


def numerical(model=None, hls_model=None, X=None, plot="boxplot"):
    """Profile the weights (and, given ``X``, the activations) of a model as distributions of their non-zero
    absolute values on a log2 axis, one row per variable or layer output.

    What is drawn depends on what is given:

    - ``model`` only: the weights; no activations figure, no precision boxes.
    - ``hls_model`` (alone or with ``model``): the weights with grey boxes spanning ``[2**-f, 2**i]``, the
      magnitudes each variable's fixed-point type represents.
    - ``model`` and ``X``: weights and activations, no boxes.
    - ``model``, ``hls_model`` and ``X``: both, with boxes. ``hls_model`` and ``X`` alone profile the
      ``hls_model``'s own activations (a proxy through Keras; a ``ModelGraph`` through the Keras model it was
      converted from, else its C simulation trace).

    For an H-model the weights are those exported (quantized; batch normalization fused), and the weights figure
    holds a second panel with the distribution of each H-layer's total bit widths (kernel and output).

    Args:
        model: a Keras model or H-model (the distributions come from it when given).
        hls_model: a proxy model (``hgq.to_proxy_model``) or an hls4ml ``ModelGraph``: the types of the boxes.
        X: inputs (an array, or a list of arrays for a multi-input model) to profile the activations on.
        plot: ``"boxplot"`` (median, quartiles, whiskers at min and max), ``"histogram"`` (one bin per power of
            two) or ``"violinplot"`` (smoothed density with the median).

    Returns:
        ``(weights_figure, activations_figure)``, ``matplotlib.figure.Figure`` objects; the second is ``None``
        without ``X``. Their axes are labelled (``ax.get_label()``) ``"weights"``, ``"bits"`` (the bit-width
        panel, right of the weights) and ``"activations"``; each grey box has the ``gid`` ``precision:<row>``.

    Raises:
        ValueError: for an unknown ``plot``, nothing to profile, an ``hls_model`` that is neither a proxy nor a
            ``ModelGraph``, or an ``X`` that does not fit the model's inputs (the message names their shapes).
    """
    if plot not in PLOT_STYLES:
        raise ValueError(f"numerical: plot={plot!r} is not supported; allowed: {', '.join(PLOT_STYLES)}")
    require("matplotlib", "hgq.profiling.numerical")
    profile = collect(model, hls_model, X)
    panels = [("weights", profile.weights, profile.weight_ranges, "Non-zero |weights|", True)]
    if profile.bits:
        panels.append(("bits", profile.bits, None, "Bit widths of the H-layers (k + i + f)", False))
    weights_figure = _figure(panels, plot)
    activations_figure = None
    if profile.activations is not None:
        activations_figure = _figure([("activations", profile.activations, profile.activation_ranges,
                                       "Non-zero |activations|", True)], plot)
    return weights_figure, activations_figure


def _figure(panels, plot):
    """One figure with a panel (axes) per ``(name, rows, ranges, title, log2)``, side by side."""
    from matplotlib.figure import Figure

    n_rows = max(len(rows) for _, rows, *_ in panels)
    widths = [3 if log2 else 2 for *_, log2 in panels]
    fig = Figure(figsize=(2.6 * sum(widths), 1.4 + 0.32 * max(n_rows, 3)), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False, gridspec_kw={"width_ratios": widths})[0]
    for ax, (name, rows, ranges, title, log2) in zip(axes, panels):
        _draw_panel(ax, name, rows, ranges, title, log2, plot)
    return fig


def _draw_panel(ax, name, rows, ranges, title, log2, plot):
    """The layout every style shares: one horizontal band per row (first row on top), precision boxes behind."""
    from matplotlib.patches import Patch, Rectangle
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    ax.set_label(name)
    ax.set_title(title)
    color = {"weights": "tab:blue", "activations": "tab:orange"}.get(name, "tab:green")
    drawn_ranges = 0
    for y, row in enumerate(rows):
        r = range_of(row, ranges) if ranges is not None else None
        if r is not None:
            low, high = r
            ax.add_patch(Rectangle((low, y - 0.45), high - low, 0.9, facecolor=PRECISION_COLOR, alpha=0.35,
                                   edgecolor="none", zorder=0, gid=f"precision:{row.label}"))
            drawn_ranges += 1
        RENDERERS[plot](ax, y, np.asarray(row.values, dtype=np.float64), np.log2 if log2 else _identity, row.label,
                        color)
    ax.set_yticks(range(len(rows)), [row.label for row in rows])
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if log2:
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"$2^{{{int(v)}}}$"))
        ax.axvline(0, color="grey", linestyle="--", linewidth=1, zorder=0)
        ax.set_xlabel("|value| (log2 scale)")
    else:
        ax.set_xlabel("bits")
    ax.grid(axis="x", alpha=0.3)
    if not rows:
        ax.text(0.5, 0.5, "nothing to show (all zero)", transform=ax.transAxes, ha="center", va="center")
    if drawn_ranges:
        ax.legend(handles=[Patch(facecolor=PRECISION_COLOR, alpha=0.35, label=r"type's range $[2^{-f}, 2^{i}]$")],
                  loc="best", fontsize="small")


def _identity(x):
    return x


# Each renderer draws one row at height ``y`` from its ``values`` (transformed by ``tf`` onto the x axis).

def _boxplot(ax, y, values, tf, label, color):
    """Box from the first to the third quartile, median line, whiskers to the min and max (statistics of the
    values, then transformed: the median drawn is ``log2(median |x|)``)."""
    from matplotlib.patches import Rectangle

    lo, q1, med, q3, hi = tf(np.percentile(values, [0, 25, 50, 75, 100]))
    h = 0.27
    ax.add_patch(Rectangle((q1, y - h), q3 - q1, 2 * h, facecolor=color, edgecolor="black", alpha=0.8,
                           zorder=2, gid=f"box:{label}"))
    ax.plot([lo, q1], [y, y], color="black", linewidth=1, zorder=1)
    ax.plot([q3, hi], [y, y], color="black", linewidth=1, zorder=1)
    ax.plot([lo, lo], [y - h / 2, y + h / 2], [hi, hi], [y - h / 2, y + h / 2], color="black", linewidth=1)
    _median(ax, y, med, h, label)


def _median(ax, y, med, h, label):
    ax.plot([med, med], [y - h, y + h], color="black", linewidth=2, zorder=3, gid=f"median:{label}")


def _bin_edges(x, tf):
    """Unit-wide bins: one per power of two ``[2**n, 2**(n+1))`` on a log2 axis, one per integer for bits."""
    offset = 0.0 if tf is np.log2 else 0.5
    return np.arange(np.floor(x.min() + offset), np.floor(x.max() + offset) + 2) - offset


def _histogram(ax, y, values, tf, label, color):
    """Counts per unit bin, scaled so that the fullest bin fills the row's band."""
    x = tf(values)
    counts, edges = np.histogram(x, bins=_bin_edges(x, tf))
    heights = 2 * ROW_HALF_HEIGHT * counts / counts.max()
    base = y + ROW_HALF_HEIGHT
    ax.stairs(base - heights, edges, baseline=base, fill=True, facecolor=color, edgecolor="black", alpha=0.8,
              zorder=2, gid=f"hist:{label}")


def _violinplot(ax, y, values, tf, label, color):
    """Gaussian-smoothed density (Scott's bandwidth, at least 0.1) between the min and the max, mirrored around
    the row, with the median."""
    x, med = tf(values), tf(np.median(values))
    spread = x.max() - x.min()
    if spread == 0:
        grid, density = np.array([x.min() - 0.05, x.min() + 0.05]), np.ones(2)
    else:
        bw = max(1.06 * x.std() * x.size ** -0.2, 0.1)
        grid = np.linspace(x.min(), x.max(), 257)  # the violin ends at the extreme values, like the whiskers
        step = grid[1] - grid[0]
        counts, _ = np.histogram(x, bins=np.append(grid - step / 2, grid[-1] + step / 2))
        half_width = min(int(3 * bw / step), len(grid) // 2)  # the kernel never longer than the grid
        steps = np.arange(-half_width, half_width + 1) * step
        density = np.convolve(counts, np.exp(-0.5 * (steps / bw) ** 2), mode="same")
    half = ROW_HALF_HEIGHT * density / density.max()
    ax.fill_between(grid, y - half, y + half, facecolor=color, edgecolor="black", alpha=0.8, zorder=2,
                    gid=f"violin:{label}")
    _median(ax, y, med, ROW_HALF_HEIGHT / 2, label)


RENDERERS = {"boxplot": _boxplot, "histogram": _histogram, "violinplot": _violinplot}
