"""The ``hgq`` command line (also ``python -m hgq``)."""

import argparse
import os
import sys

from . import demo
from .profiling import profile, render


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _run_demo(args):
    """Run the demo; exit code 1 if hls4ml's output is not bit-exact with the proxy's."""
    result = demo.run(epochs=args.epochs, beta=args.beta, output_dir=args.output_dir, verbose=not args.quiet,
                      model=args.model)
    if args.quiet:
        print(demo.format_report(result))
    if result["bit_exact_fraction"] < 1.0:
        print("error: hls4ml's output differs from the proxy model's")
        return 1
    return 0


def _run_convert_qkeras(args):
    """Convert a QKeras model file to a proxy ``.keras`` file; exit code 1 with a message if it cannot."""
    from .qkeras import from_qkeras

    if not args.output.endswith(".keras"):
        print(f"error: the output file must end in .keras, got {args.output!r}", file=sys.stderr)
        return 1
    try:
        proxy = from_qkeras(args.input, weights=args.weights, aggressive=args.aggressive)
        proxy.save(args.output)
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"wrote the proxy model of {args.input} to {args.output}")
    return 0


def _load_inputs(path):
    """The ``--data`` array, or raise ``ValueError`` saying why it cannot be read."""
    import numpy as np

    if not path.endswith(".npy"):
        raise ValueError(f"--data must be a NumPy .npy file, got {path!r}")
    if not os.path.isfile(path):
        raise ValueError(f"data file not found: {path}")
    try:
        return np.load(path)
    except (ValueError, OSError) as error:
        raise ValueError(f"cannot read the data file {path}: {error}") from None


def _run_profile(args):
    """Print or write the cost report of a saved model; exit code 1 with a message if it cannot."""
    import keras  # importing hgq registered its layers for loading

    if not os.path.isfile(args.model):
        print(f"error: model file not found: {args.model}", file=sys.stderr)
        return 1
    try:
        model = keras.models.load_model(args.model)
    except (ValueError, OSError, TypeError, KeyError) as error:
        print(f"error: cannot read the model file {args.model}: {error}", file=sys.stderr)
        return 1
    try:
        data = None if args.data is None else _load_inputs(args.data)
        report = profile(model, data)
        figures = render.report_figures(model, data) if args.format == "html" else ()
        text = render.render(report, args.format, raw=args.raw, figures=figures)
    except (ValueError, ImportError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.output_dir is None:
        sys.stdout.write(text)
        return 0
    stem = os.path.splitext(os.path.basename(args.model))[0]
    path = os.path.join(args.output_dir, f"{stem}_report.{render.EXTENSIONS[args.format]}")
    try:
        os.makedirs(args.output_dir, exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as error:
        print(f"error: cannot write the report: {error}", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    return 0


def build_parser():
    """The argument parser, one sub-command per job."""
    parser = argparse.ArgumentParser(prog="hgq", description="High-granularity quantization for Keras 3.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo_parser = commands.add_parser(
        "demo", help="train on scikit-learn's digits, export to hls4ml and check bit-exactness",
        description="Train a small H-model on scikit-learn's digits, export it to hls4ml and compare the proxy "
                    "model with hls4ml's C simulation bit for bit.")
    demo_parser.add_argument("--model", choices=sorted(demo.MODELS), default="mlp",
                             help="mlp: dense layers on the 64 pixels; cnn: HConv2D on the 8x8x1 images "
                                  "(default: %(default)s)")
    demo_parser.add_argument("--epochs", type=_positive_int, default=demo.DEFAULT_EPOCHS,
                             help="training epochs (default: %(default)s)")
    demo_parser.add_argument("--beta", type=float, default=demo.DEFAULT_BETA,
                             help="BOPs weight in the loss (default: %(default)g)")
    demo_parser.add_argument("--output-dir", help="keep the hls4ml project here (default: a temporary folder)")
    demo_parser.add_argument("--quiet", action="store_true", help="print only the final summary")
    demo_parser.set_defaults(handler=_run_demo)

    qkeras_parser = commands.add_parser(
        "convert-qkeras", help="convert a saved QKeras (Keras 2) model to a bit-exact proxy model",
        description="Convert a QKeras model (a Keras 2 full-model .h5 file, or an architecture .json with "
                    "--weights) to a proxy model for hls4ml, saved as a .keras file. Needs neither QKeras nor Keras 2.")
    qkeras_parser.add_argument("input", help="the QKeras model: NAME.h5, or NAME.json with --weights")
    qkeras_parser.add_argument("output", help="where to write the proxy model (OUT.keras)")
    qkeras_parser.add_argument("--weights", help="the NAME.weights.h5 file of a .json architecture")
    qkeras_parser.add_argument("--aggressive", action="store_true",
                               help="wrap on overflow (cheaper logic) instead of saturating like QKeras")
    qkeras_parser.set_defaults(handler=_run_convert_qkeras)

    profile_parser = commands.add_parser(
        "profile", help="per-layer cost report (BOPs, bit widths, memory, LUT/DSP/latency estimates)",
        description="Report the costs of each layer of a saved H-model or proxy model: parameters, MACs, BOPs, "
                    "bit widths, accumulator width, weight memory and estimated LUTs, DSPs and latency, plus "
                    "totals. See docs/cost_report.md.")
    profile_parser.add_argument("model", help="the model file (NAME.keras)")
    profile_parser.add_argument("--data", help="inputs (a .npy array): calibrate the H-model on them first "
                                               "(trace_minmax); the HTML report also plots their activations")
    profile_parser.add_argument("--format", choices=list(render.EXTENSIONS), default="text",
                                help="output format (default: %(default)s)")
    profile_parser.add_argument("-o", "--output-dir", help="write DIR/<model file name>_report.<ext> instead of "
                                                            "printing to stdout")
    profile_parser.add_argument("--raw", action="store_true", help="plain numbers instead of SI suffixes (k, M, G)")
    profile_parser.set_defaults(handler=_run_profile)
    return parser


def main(argv=None):
    """Run the command in ``argv`` (default: ``sys.argv[1:]``) and return its exit code."""
    args = build_parser().parse_args(argv)
    return args.handler(args)
