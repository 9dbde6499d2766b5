"""Render a ``CostReport`` as text, JSON, CSV or a self-contained HTML page.

Text, JSON and CSV need nothing beyond the standard library; only the HTML report (which embeds the plots of
``hgq.profiling.numerical``) needs matplotlib.
"""

import base64
import csv
import html
import io
import json

#: Table columns: ``(record field, header, kind)``; kind ``text``, ``count`` (SI suffixes), ``mean`` or ``fraction``.
COLUMNS = (
    ("index", "#", "text"),
    ("name", "name", "text"),
    ("type", "type", "text"),
    ("input_shapes", "input", "shape"),
    ("output_shapes", "output", "shape"),
    ("params", "params", "count"),
    ("macs", "MACs", "count"),
    ("bops", "BOPs", "count"),
    ("weight_bits_mean", "w bits mean", "mean"),
    ("weight_bits_max", "w bits max", "mean"),
    ("pruned_fraction", "pruned", "fraction"),
    ("act_bits_mean", "act bits mean", "mean"),
    ("act_bits_max", "act bits max", "mean"),
    ("accumulator_bits", "acc bits", "count"),
    ("weight_memory_bits", "w mem bits", "count"),
    ("lut_est", "LUT est.", "count"),
    ("dsp_est", "DSP est.", "count"),
    ("latency_est_cycles", "latency est. (cycles)", "count"),
)

_SI = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


def _count(value, raw):
    """``12345 -> '12.3k'`` (or ``'12345'`` when ``raw``); non-integers keep one decimal."""
    if not raw:
        for scale, suffix in _SI:
            if abs(value) >= scale:
                return f"{value / scale:.3g}{suffix}"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def format_value(value, kind, raw=False):
    """One table cell: ``-`` for ``None`` (unknown or not applicable)."""
    if value is None:
        return "-"
    if kind == "shape":
        return "; ".join("x".join("?" if d is None else str(d) for d in shape) or "scalar" for shape in value)
    if kind == "count":
        return _count(value, raw)
    if kind == "mean":
        return f"{value:.2f}"
    if kind == "fraction":
        return f"{100 * value:.1f}%"
    return str(value)


def _is_empty(records, field):
    return all(getattr(r, field) in (None, 0, 0.0) for r in records)


def table_columns(report):
    """The columns the table shows: every numeric column with a non-zero value, and the text columns."""
    return [c for c in COLUMNS if c[2] in ("text", "shape") or not _is_empty(report.records, c[0])]


def summary_lines(report, raw=False):
    """The summary as ``(label, value)`` pairs."""
    s = report.summary

    def count(v):
        return _count(v, raw)

    unknown = f" (unknown for: {', '.join(s.unquantized_layers)})" if s.unquantized_layers else ""
    return [
        ("model", f"{s.model} ({s.kind}, {s.layers} layers)"),
        ("parameters", count(s.params)),
        ("MACs", count(s.macs)),
        ("BOPs", count(s.bops) + unknown),
        ("model memory", f"{count(s.model_memory_bits)} bits (float32: {count(s.float32_memory_bits)} bits)"),
        ("LUT est.", count(s.lut_est)),
        (f"DSP est. (both operands >= {s.dsp_min_bits} bits)", count(s.dsp_est)),
        ("latency est.", f"{count(s.latency_est_cycles)} cycles (longest path)"),
        ("input types", "; ".join(s.input_types)),
        ("output types", "; ".join(s.output_types)),
        ("BOPs counting rules", f"version {s.rules_version}"),
        ("note", s.note),
    ]


def to_text(report, raw=False):
    """A fixed-width table (all-zero numeric columns dropped) followed by the summary.

    Args:
        report: a ``CostReport``.
        raw: plain numbers instead of SI suffixes (``12345`` instead of ``12.3k``).
    """
    columns = table_columns(report)
    rows = [[h for _, h, _ in columns]]
    rows += [[format_value(getattr(r, f), kind, raw) for f, _, kind in columns] for r in report.records]
    widths = [max(len(row[n]) for row in rows) for n in range(len(columns))]
    lines = []
    for n, row in enumerate(rows):
        cells = [cell.ljust(w) if kind in ("text", "shape") else cell.rjust(w)
                 for cell, w, (_, _, kind) in zip(row, widths, columns)]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    label_width = max(len(label) for label, _ in summary_lines(report, raw))
    lines.append("")
    lines += [f"{label.ljust(label_width)}  {value}" for label, value in summary_lines(report, raw)]
    return "\n".join(lines) + "\n"


def to_json(report):
    """The report as JSON (``CostReport.from_dict(json.loads(text))`` gives it back)."""
    return json.dumps(report.to_dict(), indent=2) + "\n"


def to_csv(report):
    """One row per layer under a header row of the record's field names; shapes as ``8x8x1``, unknown as empty."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([field for field, _, _ in COLUMNS])
    for r in report.records:
        writer.writerow([_csv_cell(getattr(r, f), kind) for f, _, kind in COLUMNS])
    return out.getvalue()


def _csv_cell(value, kind):
    if value is None:
        return ""
    return format_value(value, kind) if kind == "shape" else value


def figure_png(figure):
    """A matplotlib ``Figure`` as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()


def report_figures(model, data=None):
    """The plots of the HTML report: ``hgq.profiling.numerical(model, X=data)`` (weights; activations with data)."""
    from .plots import numerical

    return [f for f in numerical(model, X=data) if f is not None]


_STYLE = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;font-size:90%}"
          "th,td{border:1px solid #ccc;padding:2px 6px}td.num{text-align:right}th{background:#eee}"
          "img{max-width:100%;display:block;margin:1em 0}")


def to_html(report, figures=(), raw=False):
    """One self-contained HTML page (no external files): the table, the summary and each figure as an embedded
    base64 PNG.

    Args:
        report: a ``CostReport``.
        figures: matplotlib ``Figure`` objects to embed (e.g. ``report_figures(model, data)``).
        raw: plain numbers instead of SI suffixes.
    """
    from .optional import require

    require("matplotlib", "the HTML report")
    columns = table_columns(report)
    head = "".join(f"<th>{html.escape(h)}</th>" for _, h, _ in columns)
    body = "\n".join(
        "<tr>" + "".join(f'<td class="{"txt" if kind in ("text", "shape") else "num"}">'
                         f"{html.escape(format_value(getattr(r, f), kind, raw))}</td>" for f, _, kind in columns)
        + "</tr>" for r in report.records)
    summary = "\n".join(f"<tr><th>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
                        for label, value in summary_lines(report, raw))
    images = "\n".join(f'<img alt="figure {n}" src="data:image/png;base64,'
                       f'{base64.b64encode(figure_png(fig)).decode("ascii")}">' for n, fig in enumerate(figures))
    title = html.escape(f"Cost report: {report.summary.model}")
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title><style>{_STYLE}</style>"
            f"</head><body>\n<h1>{title}</h1>\n<h2>Layers</h2>\n<table>\n<tr>{head}</tr>\n{body}\n</table>\n"
            f"<h2>Summary</h2>\n<table>\n{summary}\n</table>\n<h2>Distributions</h2>\n{images}\n</body></html>\n")


#: File extension of each format.
EXTENSIONS = {"text": "txt", "json": "json", "csv": "csv", "html": "html"}


def render(report, fmt, raw=False, figures=()):
    """``report`` in the format ``fmt`` (a key of ``EXTENSIONS``); ``raw`` and ``figures`` as ``to_html``."""
    if fmt == "html":
        return to_html(report, figures, raw)
    if fmt == "text":
        return to_text(report, raw)
    if fmt == "json":
        return to_json(report)
    if fmt == "csv":
        return to_csv(report)
    raise ValueError(f"unknown report format {fmt!r}; allowed: {', '.join(EXTENSIONS)}")
