"""The ``hgq`` command line (also ``python -m hgq``): the parser and the launcher; every option is described in
``docs/cli.md``, the commands are in ``hgq.cli``.

A top-level module, not part of the ``hgq`` package: importing anything inside ``hgq`` runs ``hgq/__init__.py``,
which imports Keras and its backend (it registers the layers, so that ``import hgq`` is enough to load a saved
model). ``hgq --help`` answers without them; a command imports the library once its arguments are parsed, with
the backend's start-up messages kept off the terminal unless ``--verbose``. On JAX, the commands turn 64-bit mode
on (``JAX_ENABLE_X64=1`` unless set), which the proxy model needs.
"""

import argparse
import os
import sys

STRATEGIES = ("latency", "resource", "distributed_arithmetic")  # hgq.proxy.hls.STRATEGIES, without its imports
DEMO_MODELS = ("cnn", "mixer", "mlp", "rnn", "transformer")


def _int_at_least(minimum):
    """An argparse type: an integer of at least ``minimum``."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {text}")
        return value

    return parse


_positive_int, _non_negative_int = _int_at_least(1), _int_at_least(0)


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _common(parser):
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="show TensorFlow's, hls4ml's and the compiler's messages, and tracebacks on errors")


def _model_options(parser, data_help):
    parser.add_argument("model", help="the model: NAME.keras (H-model or proxy), or a QKeras NAME.h5 / NAME.json")
    parser.add_argument("--data", help=data_help)
    parser.add_argument("--weights", help="the NAME.weights.h5 file of a QKeras .json architecture (default: the "
                                          "file of that name next to it)")
    parser.add_argument("--cover-factor", type=_positive_float, default=1.0,
                        help="scale of the calibrated ranges, >1 leaves headroom (default: %(default)g)")
    parser.add_argument("--saturate", action="store_true",
                        help="saturate on overflow instead of wrapping (H-models; safer, a little more logic)")
    parser.add_argument("--io-type", choices=("io_parallel", "io_stream"), default="io_parallel",
                        help="hls4ml I/O type (default: %(default)s)")
    parser.add_argument("--backend", choices=("Vitis", "Vivado"), default="Vitis",
                        help="hls4ml backend (default: %(default)s)")
    parser.add_argument("--strategy", choices=STRATEGIES, default="latency",
                        help="hls4ml strategy; distributed_arithmetic needs da4ml (default: %(default)s)")
    parser.add_argument("--reuse-factor", type=_positive_int, default=1,
                        help="multiplications per multiplier, strategy resource only (default: %(default)s)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    _common(parser)


def _overwrite_option(parser):
    parser.add_argument("--overwrite", action="store_true",
                        help="write into an output folder that holds files hgq did not write (they are kept: hgq "
                             "never deletes or overwrites a file it did not write); without it such a folder is "
                             "refused")


def build_parser():
    """The argument parser, one sub-command per job."""
    parser = argparse.ArgumentParser(prog="hgq", description="High-granularity quantization for Keras 3: export "
                                     "to hls4ml, verify bit-exactness, profile costs.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser("export", help="calibrate, build the proxy model and write the hls4ml project",
                            description="Write DIR/proxy.keras and the hls4ml project DIR/hls4ml_prj from an "
                            "H-model (calibrated on --data, or already calibrated), a proxy or a QKeras model.")
    _model_options(p, "inputs (.npy) to calibrate an H-model on (required unless it was trained or calibrated)")
    p.add_argument("-o", "--output-dir", required=True, help="where to write proxy.keras and hls4ml_prj/")
    _overwrite_option(p)
    p.set_defaults(handler="run_export")

    p = commands.add_parser("verify", help="compile hls4ml's C simulation and compare it with the proxy bit for bit",
                            description="Build and compile the C simulation, run it and the proxy on --data and "
                            "report the fraction of bit-exact samples per output; exit code 0 only when all are.")
    _model_options(p, "inputs (.npy) to compare on (and to calibrate an H-model on); required")
    p.add_argument("-o", "--output-dir", help="keep the hls4ml project in DIR/hls4ml_prj (default: temporary)")
    _overwrite_option(p)
    p.add_argument("--project", help="compare with this existing hls4ml project instead of building one")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: %(default)s)")
    p.add_argument("--max-mismatches", type=_positive_int, default=5,
                   help="how many differing values to show (default: %(default)s)")
    p.set_defaults(handler="run_verify")

    p = commands.add_parser("profile", help="per-layer cost report (BOPs, bit widths, memory, LUT/DSP/latency est.)",
                            description="Report the costs of each layer of a saved H-model or proxy model. An H-model "
                            "that was never trained needs --data or --input-range (the report is then an estimate).")
    p.add_argument("model", help="the model file (NAME.keras)")
    p.add_argument("--data", help="inputs (a .npy array): calibrate the H-model on them first "
                                  "(trace_minmax); the HTML report also plots their activations")
    p.add_argument("--input-range", nargs=2, type=float, metavar=("LOW", "HIGH"),
                   help="for a never-trained H-model: estimate with inputs uniform in [LOW, HIGH]")
    p.add_argument("--format", choices=("text", "json", "csv", "html"), default="text",
                   help="output format (default: %(default)s)")
    p.add_argument("-o", "--output-dir", help="write DIR/<model file name>_report.<ext> instead of printing")
    _overwrite_option(p)
    p.add_argument("--raw", action="store_true", help="plain numbers instead of SI suffixes (k, M, G)")
    _common(p)
    p.set_defaults(handler="run_profile")

    p = commands.add_parser("convert-qkeras", help="convert a saved QKeras (Keras 2) model to a bit-exact proxy",
                            description="Convert a QKeras model (a Keras 2 full-model .h5 file, or an architecture "
                            ".json with --weights) to a proxy model saved as a .keras file.")
    p.add_argument("input", help="the QKeras model: NAME.h5, or NAME.json with --weights")
    p.add_argument("output", help="where to write the proxy model (OUT.keras; not over a file hgq did not write)")
    p.add_argument("--weights", help="the NAME.weights.h5 file of a .json architecture")
    p.add_argument("--aggressive", action="store_true",
                   help="wrap on overflow (cheaper logic) instead of saturating like QKeras")
    _common(p)
    p.set_defaults(handler="run_convert_qkeras")

    p = commands.add_parser("pareto", help="train over a ramp of beta and keep the front of accuracy against BOPs",
                            description="Train a float Keras model (quantized with hgq.quantize_model) or an H-model "
                            "once while beta rises log-linearly, keeping every design no other beats in the metric of "
                            "its proxy on the validation data and in exact BOPs (hgq.fit_pareto).")
    p.add_argument("model", help="the model: NAME.keras, float Keras or H-model")
    p.add_argument("--data", required=True, help="training inputs (.npy)")
    p.add_argument("--labels", required=True, help="training targets (.npy)")
    p.add_argument("--validation-data", required=True, help="validation inputs (.npy), the metric is measured on")
    p.add_argument("--validation-labels", required=True, help="validation targets (.npy)")
    p.add_argument("--test-data", help="test inputs (.npy): every design of the front is scored on them too, which "
                                       "chooses nothing (with --test-labels)")
    p.add_argument("--test-labels", help="test targets (.npy)")
    p.add_argument("-o", "--output-dir", required=True, help="where to keep the designs, front.csv and front.png")
    _overwrite_option(p)
    p.add_argument("--loss", default="logits", help="logits (sparse categorical cross-entropy on logits) or a Keras "
                                                    "loss name (default: %(default)s)")
    p.add_argument("--metric", default="accuracy", help="a Keras metric name (default: %(default)s)")
    p.add_argument("--lower-is-better", action="store_true", help="for a metric such as mse")
    p.add_argument("--epochs", type=_positive_int, help="training epochs (default: hgq.fit_pareto's)")
    p.add_argument("--beta", type=_positive_float, nargs=2, metavar=("START", "STOP"),
                   help="the ramp of beta (default: hgq.fit_pareto's)")
    p.add_argument("--learning-rate", type=_positive_float, help="Adam's (default: hgq.fit_pareto's)")
    p.add_argument("--batch-size", type=_positive_int, help="samples per step (default: hgq.fit_pareto's)")
    p.add_argument("--smoothing", type=_non_negative_int, help="choose on the metric averaged over this many epochs "
                                                               "on each side of a design (default: hgq.fit_pareto's)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    _common(p)
    p.set_defaults(handler="run_pareto")

    p = commands.add_parser("demo", help="train on scikit-learn's digits, export to hls4ml and check bit-exactness",
                            description="Train a small H-model on scikit-learn's digits, export it to hls4ml and "
                            "compare the proxy model with hls4ml's C simulation bit for bit (hgq verify's code).")
    p.add_argument("--model", choices=DEMO_MODELS, default="mlp",
                   help="mlp: dense layers on the 64 pixels; cnn: HConv2D on the 8x8x1 images; transformer, mixer: "
                        "attention, MLP-mixer over the 8 rows as tokens; rnn: a GRU over the 8 rows as time steps "
                        "(default: %(default)s)")
    p.add_argument("--epochs", type=_positive_int, default=60, help="training epochs (default: %(default)s)")
    p.add_argument("--beta", type=float, default=1e-4, help="BOPs weight in the loss (default: %(default)g)")
    p.add_argument("--output-dir", help="keep the hls4ml project here: a new or empty folder, or one hgq wrote "
                                        "(default: a temporary folder)")
    p.add_argument("--quiet", action="store_true", help="print only the final summary")
    _common(p)
    p.set_defaults(handler="run_demo")
    return parser


def _import_commands(verbose):
    """``hgq.cli.commands``, imported with TensorFlow's and absl's start-up lines hidden unless ``verbose``: they are
    written to the file descriptors at import, before ``TF_CPP_MIN_LOG_LEVEL`` is read."""
    if verbose:
        from hgq.cli import commands
        return commands
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    import warnings

    warnings.filterwarnings("ignore")
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved, devnull = [os.dup(1), os.dup(2)], os.open(os.devnull, os.O_WRONLY)
    try:
        for fd in (1, 2):
            os.dup2(devnull, fd)
        from hgq.cli import commands
    finally:
        for fd, copy in zip((1, 2), saved):
            os.dup2(copy, fd)
            os.close(copy)
        os.close(devnull)
    return commands


def main(argv=None):
    """Run the command in ``argv`` (default: ``sys.argv[1:]``) and return its exit code."""
    args = build_parser().parse_args(argv)
    os.environ.setdefault("JAX_ENABLE_X64", "1")  # on JAX the proxy's float64 must be float64 (docs/proxy.md)
    try:
        commands = _import_commands(args.verbose)
    except ImportError as error:  # e.g. Keras' backend not installed: the message names the extra
        if args.verbose:
            raise
        print(f"error: {error}", file=sys.stderr)
        return 1
    try:
        return getattr(commands, args.handler)(args)
    except (commands.CLIError, ValueError, NotImplementedError, OSError, ImportError) as error:
        if args.verbose:
            raise
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # hls4ml raises bare Exceptions; name the type of what we did not foresee
        if args.verbose:
            raise
        print(f"error: {type(error).__name__}: {error} (run with --verbose for the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
