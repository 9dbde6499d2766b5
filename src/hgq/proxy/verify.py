"""``verify``: build hls4ml's C simulation of a proxy and compare it with the proxy bit for bit."""

import dataclasses
import tempfile

import numpy as np

from .. import graph
from ..proxy_layers.fixed_point_quantizer import FixedPointQuantizer
from ..quantizer.types import hls_type_name
from .c_simulation import hls4ml_predict
from .hls import convert_to_hls4ml, proxy_predict, quiet


@dataclasses.dataclass
class Mismatch:
    """One differing output element: sample index, flat element index, both values and the element's type."""

    output: int
    sample: int
    element: int
    proxy: float
    hls4ml: float
    type: str
    layer: str


@dataclasses.dataclass
class VerifyResult:
    """Per-output exact fractions (of samples whose every element agrees) and the first mismatches."""

    n_samples: int
    exact_fraction: list
    output_layers: list
    mismatches: list
    seconds: dict = dataclasses.field(default_factory=dict)

    @property
    def ok(self):
        """Every sample bit-exact on every output."""
        return all(f == 1.0 for f in self.exact_fraction)

    def to_dict(self):
        """Plain data for ``json.dumps``."""
        return {**dataclasses.asdict(self), "ok": self.ok}

    def format(self):
        """The human-readable summary (what ``hgq verify`` prints)."""
        lines = [f"output {n} ({name}): {frac:.2%} of {self.n_samples} samples bit-exact"
                 for n, (name, frac) in enumerate(zip(self.output_layers, self.exact_fraction))]
        if self.mismatches:
            lines.append("first mismatches (sample, element: proxy != hls4ml, type):")
            lines += [f"  output {m.output} ({m.layer}) sample {m.sample}, element {m.element}: {m.proxy!r} != "
                      f"{m.hls4ml!r}, {m.type}" for m in self.mismatches]
        lines.append("bit-exact" if self.ok else "NOT bit-exact")
        return "\n".join(lines)


def _type_of(layer, element):
    """``ap_fixed<W,I>``/``ap_ufixed<W,I>`` of one flat output element of a ``FixedPointQuantizer`` (or ``?``)."""
    if not isinstance(layer, FixedPointQuantizer):
        return f"? ({type(layer).__name__} output, no quantizer)"
    k, b, i = (np.asarray(a).reshape(-1) for a in layer.kbi())
    j = element if k.size > 1 else 0
    return f"{hls_type_name(k[j], b[j], i[j])} {layer.RND} {layer.SAT}"


def _as_list(y, n):
    return list(y) if n > 1 else [y]


def _float64_inputs(x):
    """``(inputs as float64, number of samples)`` of an array or of a list of arrays (one per model input)."""
    if isinstance(x, (list, tuple)):
        arrays = [np.ascontiguousarray(a, dtype=np.float64) for a in x]
        return arrays, len(arrays[0])
    x = np.ascontiguousarray(x, dtype=np.float64)
    return x, len(x)


def compare(proxy, x, y_hls, max_mismatches=5):
    """``VerifyResult`` of hls4ml's outputs ``y_hls`` (one array per proxy output) against ``proxy`` on ``x``."""
    n_out = len(proxy.outputs)
    x, n_samples = _float64_inputs(x)
    y_proxy = _as_list(proxy_predict(proxy, x), n_out)
    layers = [graph.through_nested_models(graph.producer_of(t)) for t in proxy.outputs]
    fractions, mismatches = [], []
    for n, (yp, yh, layer) in enumerate(zip(y_proxy, y_hls, layers)):
        yp = np.asarray(yp, np.float64).reshape(n_samples, -1)
        yh = np.asarray(yh, np.float64).reshape(n_samples, -1)
        differs = yp != yh
        fractions.append(float(1.0 - differs.any(axis=1).mean()))
        for sample, element in np.argwhere(differs)[: max(0, max_mismatches - len(mismatches))]:
            mismatches.append(Mismatch(n, int(sample), int(element), float(yp[sample, element]),
                                       float(yh[sample, element]), _type_of(layer, element), layer.name))
    return VerifyResult(n_samples, fractions, [layer.name for layer in layers], mismatches)


def verify(proxy, x, output_dir=None, hls_model=None, max_mismatches=5, verbose=False, progress=None, **options):
    """Compile hls4ml's C simulation of ``proxy`` and compare it with the proxy on ``x``, bit for bit.

    Args:
        proxy: a proxy model (``to_proxy_model`` or ``hgq.qkeras.from_qkeras``).
        x: inputs, an array (or a list for several inputs).
        output_dir: the hls4ml project folder (kept); a temporary one if ``None``.
        hls_model: an hls4ml model to compare instead (compiled here if it is not yet).
        max_mismatches: how many differing elements to report.
        verbose: show hls4ml's and the compiler's messages.
        progress: optional callable taking a message, called before each long step.
        **options: ``io_type``, ``backend``, ``strategy``, ``reuse_factor`` of ``convert_to_hls4ml``.

    Returns:
        A ``VerifyResult`` (``.ok``, ``.exact_fraction`` per output, ``.mismatches``).
    """
    say = progress or (lambda message: None)
    x, n_samples = _float64_inputs(x)
    with tempfile.TemporaryDirectory(prefix="hgq_verify_") as tmp:
        if hls_model is None:
            say("converting with hls4ml")
            with quiet(not verbose):
                hls_model = convert_to_hls4ml(proxy, output_dir or tmp, **options)
        say("compiling the C simulation")
        with quiet(not verbose):
            hls_model.compile()
        say(f"running the C simulation on {n_samples} samples")
        with quiet(not verbose):
            y_hls = _as_list(hls4ml_predict(hls_model, x, proxy), len(proxy.outputs))
    return compare(proxy, x, y_hls, max_mismatches)
