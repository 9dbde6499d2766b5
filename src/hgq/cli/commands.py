"""The commands behind ``hgq export``, ``hgq verify``, ``hgq profile``, ``hgq convert-qkeras``, ``hgq pareto`` and
``hgq demo``.

Each takes the parsed arguments and returns an exit code; a ``CLIError`` (or a ``ValueError`` from the library)
becomes one ``error: ...`` line in ``hgq_cli.main``.
"""

import json
import os
import sys

from ..model_kind import FLOAT, H_MODEL
from ..outputs import output_file
from .common import CLIError, Progress, is_calibrated, load_data, load_model, output_folder
from .pareto import run_pareto  # noqa: F401  (hgq pareto; hgq_cli finds every command here)

PROXY_FILE = "proxy.keras"
PROJECT_DIR = "hls4ml_prj"


def build_proxy(args, say, data_required=False):
    """``(proxy, data, bops)`` from ``args.model``: an H-model is calibrated on ``--data`` (or refused if it never
    was), a proxy or QKeras model is used as it is. ``bops`` is ``None`` unless calibrated here."""
    model, kind = load_model(args.model, getattr(args, "weights", None), args.verbose)
    if kind == FLOAT:
        raise CLIError(f"{args.model} holds neither hgq layers nor a proxy model: nothing to export")
    if data_required and args.data is None:
        raise CLIError("--data X.npy is required: the inputs to compare on")
    data = None if args.data is None else load_data(args.data, model)
    if kind != H_MODEL:
        return model, data, None
    from ..calibration import trace_minmax
    from ..proxy import to_proxy_model

    bops = None
    if data is not None:
        say(f"calibrating on {len(data)} samples (cover factor {args.cover_factor:g})")
        bops = trace_minmax(model, data, cover_factor=args.cover_factor)
    elif not is_calibrated(model):
        raise CLIError(f"{args.model} was never calibrated or trained (its quantizers have no recorded ranges); "
                       "pass --data X.npy with inputs to calibrate it on")
    say("building the proxy model")
    return to_proxy_model(model, aggressive=not args.saturate), data, bops


def hls_options(args):
    """The ``convert_to_hls4ml`` options of the command line."""
    return {"io_type": args.io_type, "backend": args.backend, "strategy": args.strategy,
            "reuse_factor": args.reuse_factor}


def layer_summary(proxy):
    """Total BOPs and one line per quantized layer: output width (mean / max bits) and weight widths."""
    from ..profiling import profile

    report = profile(proxy)
    lines = [f"{'layer':<24} {'type':<20} {'out bits mean/max':>18} {'weight bits mean/max':>21}"]
    for r in report.records:
        if r.act_bits_mean is None and r.weight_bits_mean is None:
            continue
        out = "-" if r.act_bits_mean is None else f"{r.act_bits_mean:.2f}/{r.act_bits_max:.0f}"
        w = "-" if r.weight_bits_mean is None else f"{r.weight_bits_mean:.2f}/{r.weight_bits_max:.0f}"
        lines.append(f"{r.name[:24]:<24} {r.type[:20]:<20} {out:>18} {w:>21}")
    return report.summary.bops, "\n".join(lines)


def run_export(args):
    """Write ``DIR/proxy.keras`` and the hls4ml project ``DIR/hls4ml_prj``; print a summary."""
    from ..proxy.hls import check_strategy, convert_to_hls4ml, quiet

    say = Progress(not args.quiet)
    folder = output_folder(args, "hgq export")
    proxy, _, _ = build_proxy(args, say)
    check_strategy(proxy, args.strategy, args.reuse_factor, args.io_type, args.backend)
    proxy_path, project = folder.target(PROXY_FILE), folder.target(PROJECT_DIR)
    proxy.save(proxy_path)
    bops, table = layer_summary(proxy)  # before hls4ml, which calls the proxy's layers again
    say(f"writing the hls4ml project ({args.backend}, {args.io_type}, {args.strategy})")
    try:
        with quiet(not args.verbose):
            hls_model = convert_to_hls4ml(proxy, project, **hls_options(args))
            hls_model.write()
    except NotImplementedError as error:
        raise CLIError(f"hls4ml cannot build this model with {args.io_type}: {error}") from None
    print(f"BOPs: {bops:,.0f}")
    print(table)
    print(f"wrote the proxy model to {proxy_path}")
    print(f"wrote the hls4ml project ({args.backend}, {args.io_type}, strategy {args.strategy}, reuse factor "
          f"{args.reuse_factor}) to {project}")
    return 0


def run_verify(args):
    """Compile the C simulation and compare it with the proxy bit for bit; exit code 0 only when exact."""
    from ..proxy.verify import verify

    say = Progress(not args.quiet and args.format == "text")
    folder = None if args.output_dir is None else output_folder(args, "hgq verify")
    proxy, data, _ = build_proxy(args, say, data_required=True)
    hls_model = None
    if args.project is not None:
        if not os.path.isdir(args.project):
            raise CLIError(f"--project {args.project} is not an hls4ml project directory")
        import hls4ml

        hls_model = hls4ml.converters.link_existing_project(args.project)
    else:
        from ..proxy.hls import check_strategy

        check_strategy(proxy, args.strategy, args.reuse_factor, args.io_type, args.backend)
    output_dir = None if folder is None else folder.target(PROJECT_DIR)
    result = verify(proxy, data, output_dir=output_dir, hls_model=hls_model, max_mismatches=args.max_mismatches,
                    verbose=args.verbose, progress=say, **hls_options(args))
    if args.format == "json":
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(result.format())
    return 0 if result.ok else 1


def _profile_data(args, model, kind):
    """The data ``profile`` calibrates on, and whether the report is an estimate before training."""
    import numpy as np

    data = None if args.data is None else load_data(args.data)  # profile() checks it against the model
    if kind != H_MODEL or is_calibrated(model):
        return data, False
    if data is None and args.input_range is None:
        raise CLIError(f"{args.model} was never trained or calibrated: its integer bits and signs are unknown. "
                       "Pass --data X.npy (representative inputs) or --input-range LOW HIGH for an estimate "
                       "from the initial bit widths")
    if data is None:
        low, high = args.input_range
        if not low < high:
            raise CLIError(f"--input-range needs LOW < HIGH, got {low:g} {high:g}")
        shape = tuple(model.inputs[0].shape[1:])
        rng = np.random.default_rng(0)
        data = rng.uniform(low, high, size=(256, *shape)).astype("float32")
        data[0], data[1] = low, high
    return data, True


def run_profile(args):
    """Print or write the cost report of a saved model."""
    from ..profiling import profile, render

    folder = None if args.output_dir is None else output_folder(args, "hgq profile")
    model, kind = load_model(args.model, verbose=args.verbose)
    data, estimate = _profile_data(args, model, kind)
    report = profile(model, data)
    if estimate:
        source = "--data" if args.data else f"inputs uniform in [{args.input_range[0]:g}, {args.input_range[1]:g}]"
        report.summary.note = (f"ESTIMATE before training: initial bit widths, ranges from {source}. "
                               + report.summary.note)
    figures = render.report_figures(model, data) if args.format == "html" else ()
    text = render.render(report, args.format, raw=args.raw, figures=figures)
    if folder is None:
        sys.stdout.write(text)
        return 0
    stem = os.path.splitext(os.path.basename(args.model))[0]
    path = folder.target(f"{stem}_report.{render.EXTENSIONS[args.format]}")
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as error:
        raise CLIError(f"cannot write the report: {error}") from None
    print(f"wrote {path}")
    return 0


def run_convert_qkeras(args):
    """Convert a QKeras model file to a proxy ``.keras`` file."""
    if not args.output.endswith(".keras"):
        raise CLIError(f"the output file must end in .keras, got {args.output!r}")
    from ..qkeras import from_qkeras

    if not os.path.exists(args.input):
        raise CLIError(f"model file not found: {args.input}")
    output = output_file(args.output, "hgq convert-qkeras")  # before the conversion: refused early
    try:
        proxy = from_qkeras(args.input, weights=args.weights, aggressive=args.aggressive)
        proxy.save(output)
    except (ValueError, OSError) as error:
        raise CLIError(str(error)) from None
    print(f"wrote the proxy model of {args.input} to {args.output}")
    return 0


def run_demo(args):
    """Run the demo; exit code 1 if hls4ml's output is not bit-exact with the proxy's."""
    from . import demo

    result = demo.run(epochs=args.epochs, beta=args.beta, output_dir=args.output_dir, verbose=not args.quiet,
                      model=args.model, show_tools=args.verbose)
    if args.quiet:
        print(demo.format_report(result))
    if result["bit_exact_fraction"] < 1.0:
        print("error: hls4ml's output differs from the proxy model's", file=sys.stderr)
        return 1
    return 0
