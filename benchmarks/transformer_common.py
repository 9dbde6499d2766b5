"""What ``transformer_digits.py`` (ours) and ``transformer_digits_hgq2.py`` (HGQ2, run in its own virtual
environment) share: the data, the float Keras transformer, the training recipe and its timing, the hls4ml comparison,
the neutral BOPs count and the report. It imports no quantization library, so either script can use it.

Import it before Keras: it imports ``overhead_common``, which sets ``KERAS_BACKEND`` from ``--backend`` (and
``JAX_ENABLE_X64`` from ``--x64``) at import.

**Data.** scikit-learn's digits, x scaled to [0, 1] (pixel / 16), each image read as 8 tokens (its rows) of 8
features; ``train_test_split(test_size=0.3, random_state=0)``: 1257 training and 540 test samples.

**Architecture** (both libraries and the float model): a per-token embedding ``EinsumDense("abc,bcd->abd")`` to 16
features (each row its own weights, bias on ``bd``, ReLU); self-attention (2 heads, ``key_dim=8``) with a residual
add; an MLP ``EinsumDense("abc,cd->abd")`` (16 features, ReLU) with a residual add; max pooling over the 8 tokens,
flatten, ``Dense(10)`` logits.

**Training recipe** (both libraries and the float model): Adam with a cosine-decayed learning rate (``3e-3`` to 0
over all steps), sparse categorical cross-entropy from logits, batch 64, ``--epochs`` epochs in ``--chunks`` fit calls
per model; the quantized and the float model take turns chunk by chunk (so that a slow spell of a shared machine hits
both) and the schedule runs on across a model's chunks. Epoch times: the first epoch of every fit call (tracing,
compilation) is dropped; each model's median over the rest, and their ratio.

**Export and comparison.** After training, the library's own calibration (``trace_minmax``) on the training set, the
hls4ml model (Vitis backend, ``io_parallel``, Latency strategy; hls4ml's bit-exact pass derives every type from the
quantizers), ``compile()``, then its C simulation on the test set against the Keras model the library exports (ours:
the proxy of ``hgq.to_proxy_model``; HGQ2: the HGQ2 model itself), both in float64: the bit-exact fraction is the
fraction of test samples whose 10 outputs are all equal.

**Neutral BOPs** (``neutral_bops``), one rule for both libraries, counted on the hls4ml ``ModelGraph`` after
conversion, when the bit-exact pass has set every precision. Width of an activation: the bit width of the node's input
variable's type (one type per tensor, as hls4ml declares it); width of a constant weight: its significant bits, the
``k + i + f`` of ``hls4ml.utils.qinterval.minimal_kif`` of its exact value (0 for a zero weight, which costs nothing).

- A node that multiplies by constant weights (``Dense``, ``Conv1D``/``Conv2D``, ``EinsumDense``): the sum over its
  weights of (input width) x (weight width), each weight counted once per position it is applied at: for a Dense the
  input's leading elements (1 for a flat input), for a convolution the output positions (padding included), for an
  EinsumDense the product of the sizes of all letters of its equation divided by the kernel's size (per token for
  ``"abc,cd->abd"``, once for ``"abc,bcd->abd"``).
- A node that multiplies two activations (``Einsum``; ``Multiply``): the number of products (the product of the sizes
  of all letters of its equation; the output's size for a Multiply) times the two input widths.
- ``Softmax``: one product per element of its output, ``width(exp_table_t) x width(inv_table_t)``; the table look-ups
  and the subtraction of the maximum are not counted.
- Additions, biases, pooling, quantizers, activations: 0. Any other node with constant weights (a batch
  normalization, ...) is refused rather than silently counted as 0.

Choices where the rule could be read two ways, made once and applied to both graphs: the input width is the input
variable's declared type, not the per-element widths of a heterogeneous quantizer before it (hls4ml's Latency
template sizes every multiplier of a layer by that type); the attention's ``1/sqrt(key_dim)`` is the softmax's
``exp_scale`` in both graphs (no multiplication node); each part of the attention is the node hls4ml makes of it
(both libraries give the same five: three EinsumDense projections, Einsum, Softmax, Einsum, EinsumDense output).
"""

import argparse
import json
import math
import statistics
import tempfile
import time

import overhead_common  # first: it sets KERAS_BACKEND (and JAX_ENABLE_X64) from the command line

import keras  # after the backend is chosen
import numpy as np

TEST_SIZE = 0.3
SPLIT_SEED = 0
BATCH_SIZE = 64
LEARNING_RATE = 3e-3
EPOCHS = 60
CHUNKS = 4
EMBEDDING = dict(equation="abc,bcd->abd", output_shape=(8, 16), bias_axes="bd", activation="relu")
MLP = dict(equation="abc,cd->abd", output_shape=(8, 16), bias_axes="d", activation="relu")
HEADS = dict(num_heads=2, key_dim=8)


def digits_tokens():
    """``x_train, x_test, y_train, y_test``: digits as 8 tokens of 8 pixels in [0, 1] (float32), 30 % test."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32).reshape(-1, 8, 8)
    return train_test_split(x, y, test_size=TEST_SIZE, random_state=SPLIT_SEED)


def float_transformer():
    """The architecture in float Keras (the reference of the epoch-time ratio)."""
    tokens = keras.Input((8, 8))
    x = keras.layers.EinsumDense(**EMBEDDING, name="embedding")(tokens)
    x = keras.layers.Add(name="residual1")([x, keras.layers.MultiHeadAttention(**HEADS, name="attention")(x, x)])
    x = keras.layers.Add(name="residual2")([x, keras.layers.EinsumDense(**MLP, name="mlp")(x)])
    x = keras.layers.Flatten()(keras.layers.MaxPooling1D(8, name="pool")(x))
    return keras.Model(tokens, keras.layers.Dense(10, name="head")(x), name="digits_float_transformer")


def train_taking_turns(models, x, y, epochs, chunks):
    """Train every model of ``models`` (name -> model) with the recipe, ``epochs`` epochs in ``chunks`` fit calls,
    the models taking turns chunk by chunk. Returns name -> the epoch times (first epoch of each fit call dropped)."""
    steps = epochs * math.ceil(len(x) / BATCH_SIZE)
    for model in models.values():
        schedule = keras.optimizers.schedules.CosineDecay(LEARNING_RATE, steps)
        model.compile(optimizer=keras.optimizers.Adam(schedule),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    times = {name: [] for name in models}
    for chunk in range(chunks):
        n = epochs // chunks + (1 if chunk < epochs % chunks else 0)
        for name, model in models.items():
            times[name] += overhead_common.epoch_times(model, x, y, n, BATCH_SIZE)
    return times


def _width(precision):
    """Bit width of an hls4ml type (a ``NamedType`` or a precision)."""
    return int(getattr(precision, "precision", precision).width)


def _input_widths(node):
    return [_width(node.get_input_variable(name).type) for name in node.inputs]


def _letter_sizes(operands, shapes):
    """Letter -> size from einsum operands (strings) and their shapes."""
    sizes = {}
    for letters, shape in zip(operands, shapes):
        if "." in letters:
            raise ValueError("neutral_bops: an ellipsis in an einsum equation is not handled")
        for letter, size in zip(letters, shape, strict=True):
            if sizes.setdefault(letter, int(size)) != int(size):
                raise ValueError(f"neutral_bops: letter {letter} has sizes {sizes[letter]} and {size}")
    return sizes


def _weight_bits(weights):
    """Sum of the significant bits of the exact values of ``weights`` (``minimal_kif``)."""
    from hls4ml.utils.qinterval import minimal_kif

    k, i, f = minimal_kif(np.asarray(weights, np.float64))
    return int(np.sum(k.astype(np.int64) + i + f))


def _weight_positions(node, kernel_size):
    """How many times each weight of a constant-weight node is applied per sample."""
    kind = node.class_name
    if kind == "Dense":
        return math.prod(node.get_input_variable().shape) // node.weights["weight"].data.shape[0]
    if kind in ("Conv1D", "Conv2D"):
        return math.prod(node.get_output_variable().shape[:-1])
    operands, output = node.get_attr("equation").split("->")
    inp, kernel = operands.split(",")
    sizes = _letter_sizes([inp, output], [node.get_attr("inp_shape"), node.get_attr("out_shape")])
    if set(kernel) - set(sizes) or math.prod(sizes[c] for c in kernel) != kernel_size:
        raise ValueError(f"neutral_bops: kernel of {node.name} ({kernel_size} weights) does not match {operands}")
    return math.prod(sizes.values()) // kernel_size


def node_bops(node):
    """Neutral BOPs of one hls4ml node (the rule of the module docstring)."""
    kind = node.class_name
    if kind in ("Dense", "Conv1D", "Conv2D", "EinsumDense"):
        weights = node.weights["weight"].data
        (width,) = _input_widths(node)
        return width * _weight_bits(weights) * _weight_positions(node, np.size(weights))
    if kind == "Einsum":
        operands, output = node.get_attr("equation").split("->")
        sizes = _letter_sizes([*operands.split(","), output],
                              [node.get_attr("inp0_shape"), node.get_attr("inp1_shape"), node.get_attr("out_shape")])
        return math.prod(_input_widths(node)) * math.prod(sizes.values())
    if kind == "Merge" and node.get_attr("op") == "multiply":
        return math.prod(_input_widths(node)) * math.prod(node.get_output_variable().shape)
    if kind == "Softmax":
        widths = _width(node.get_attr("exp_table_t")) * _width(node.get_attr("inv_table_t"))
        return widths * math.prod(node.get_output_variable().shape)
    if {"weight", "scale"} & set(node.weights):
        raise ValueError(f"neutral_bops: node {node.name} ({kind}) has constant weights the rule does not cover")
    return 0


def neutral_bops(hls_model):
    """Node name -> neutral BOPs of every node of an hls4ml ``ModelGraph`` that multiplies (module docstring)."""
    counts = {name: node_bops(node) for name, node in hls_model.graph.items()}
    return {name: bops for name, bops in counts.items() if bops}


def compare_with_hls4ml(hls_model, reference, x_test, y_test):
    """Compile ``hls_model`` and compare its C simulation with the Keras model ``reference`` on ``x_test`` (float64).

    Returns a dict: ``accuracy`` (of ``reference``), ``hls4ml_accuracy``, ``bit_exact_fraction`` (samples whose
    outputs are all equal), ``max_abs_difference``, ``compile_seconds``."""
    start = time.perf_counter()
    hls_model.compile()
    compile_seconds = time.perf_counter() - start
    x = np.ascontiguousarray(x_test, dtype=np.float64)
    y_ref = np.asarray(reference.predict(x, verbose=0, batch_size=1024), np.float64).reshape(len(x), -1)
    y_hls = np.asarray(hls_model.predict(x), np.float64).reshape(len(x), -1)
    return {"accuracy": float(np.mean(np.argmax(y_ref, axis=1) == y_test)),
            "hls4ml_accuracy": float(np.mean(np.argmax(y_hls, axis=1) == y_test)),
            "bit_exact_fraction": float(np.mean(np.all(y_ref == y_hls, axis=1))),
            "max_abs_difference": float(np.max(np.abs(y_ref - y_hls))),
            "compile_seconds": compile_seconds}


def parse_recipe_arguments(parser, default_beta):
    """Add the options every comparison script shares (backend, 64-bit mode, epochs, chunks, beta, seed) to
    ``parser`` and parse the command line."""
    parser.add_argument("--backend", choices=("tensorflow", "jax"),
                        help="Keras backend (default: KERAS_BACKEND, else Keras' default)")
    parser.add_argument("--x64", action="store_true", help="JAX 64-bit mode (JAX_ENABLE_X64=1)")
    parser.add_argument("--epochs", type=int, default=EPOCHS, help=f"training epochs (default {EPOCHS})")
    parser.add_argument("--chunks", type=int, default=CHUNKS,
                        help=f"fit calls per model, the two models taking turns (default {CHUNKS})")
    parser.add_argument("--beta", type=float, default=default_beta,
                        help=f"BOPs weight of every quantized layer (default {default_beta:g})")
    parser.add_argument("--seed", type=int, default=0, help="keras.utils.set_random_seed (default 0)")
    args = parser.parse_args()
    if args.epochs < 2 * args.chunks or args.chunks < 1:
        parser.error("need --chunks >= 1 and --epochs >= 2 * --chunks (the first epoch of each fit call is dropped)")
    return args


def main(doc, project, build, export, default_beta):
    """Parse the command line, train the quantized and the float model taking turns, export, compare with hls4ml,
    print the report and the ``RESULT`` line.

    Args:
        doc: the script's docstring (its first line describes the command).
        project: ``"hgq"`` or ``"hgq2"`` (in the ``RESULT`` line).
        build: ``beta -> `` the library's (not yet trained) transformer.
        export: ``(model, x_calibration, output_dir) -> (own_bops, reference, hls_model)``: the library's
            calibration and its BOPs (or EBOPs) as it reports them, the Keras model its users compare with hls4ml,
            and the converted (not yet compiled) hls4ml model.
        default_beta: the BOPs weight of the library's layers unless ``--beta`` is given.
    """
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--model", choices=("transformer",), default="transformer",
                        help="the workload (only transformer; for compare_hgq2.run_one)")
    parser.add_argument("--output-dir", help="keep the hls4ml project here (default: a temporary folder)")
    args = parse_recipe_arguments(parser, default_beta)

    x_train, x_test, y_train, y_test = digits_tokens()
    keras.utils.set_random_seed(args.seed)
    models = {"quantized": build(args.beta), "float": float_transformer()}
    times = train_taking_turns(models, x_train, y_train, args.epochs, args.chunks)
    float_accuracy = float(np.mean(np.argmax(models["float"].predict(x_test, verbose=0), axis=1) == y_test))

    with tempfile.TemporaryDirectory(prefix=f"{project}_transformer_") as tmp:
        start = time.perf_counter()
        own_bops, reference, hls_model = export(models["quantized"], x_train, args.output_dir or tmp)
        convert_seconds = time.perf_counter() - start
        check = compare_with_hls4ml(hls_model, reference, x_test, y_test)
        per_node = neutral_bops(hls_model)

    quantized, float_ = statistics.median(times["quantized"]), statistics.median(times["float"])
    result = {"project": project, "backend": keras.backend.backend(), "model": args.model, "beta": args.beta,
              "epochs": args.epochs, "accuracy": check["accuracy"], "hls4ml_accuracy": check["hls4ml_accuracy"],
              "float_accuracy": float_accuracy, "bops": sum(per_node.values()), "own_bops": float(own_bops),
              "bit_exact_fraction": check["bit_exact_fraction"], "max_abs_difference": check["max_abs_difference"],
              "quantized": quantized, "float": float_, "ratio": quantized / float_,
              "convert_seconds": convert_seconds, "compile_seconds": check["compile_seconds"]}
    print(f"{project} {overhead_common.backend_versions()}; digits transformer, {len(x_train)} training / "
          f"{len(x_test)} test samples, batch {BATCH_SIZE}, {args.epochs} epochs in {args.chunks} fit calls, "
          f"beta={args.beta:g}; {len(times['float'])} timed epochs per model")
    print(f"test accuracy: Keras model {check['accuracy']:.4f}, hls4ml {check['hls4ml_accuracy']:.4f}, "
          f"float {float_accuracy:.4f}")
    print(f"bit-exact samples (hls4ml C simulation = Keras model): {check['bit_exact_fraction']:.2%} "
          f"(largest difference {check['max_abs_difference']:g})")
    print(f"neutral BOPs {result['bops']:,} (own count {own_bops:,.0f}); per node: "
          + ", ".join(f"{name} {bops:,}" for name, bops in per_node.items()))
    print(f"median epoch: quantized {quantized:.3f} s, float {float_:.3f} s, ratio {quantized / float_:.2f}x; "
          f"hls4ml conversion {convert_seconds:.1f} s, compile {check['compile_seconds']:.1f} s")
    print("RESULT " + json.dumps(result))
