"""``hgq pareto``: ``hgq.fit_pareto`` on a saved float or H-model and ``.npy`` data."""

import os

from ..model_kind import FLOAT, H_MODEL
from .common import CLIError, load_data, load_model, output_folder


def _loss(name):
    """``"logits"``: sparse categorical cross-entropy on logits; any other name is Keras' loss of that name."""
    import keras

    if name == "logits":
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    try:
        return keras.losses.get(name)
    except ValueError:
        raise CLIError(f"--loss {name!r} is not a Keras loss name (e.g. logits, mse, categorical_crossentropy)") \
            from None


def run_pareto(args):
    """Train the model over a beta ramp, keep the front in ``--output-dir`` and print it."""
    model, kind = load_model(args.model, verbose=args.verbose)
    if kind not in (FLOAT, H_MODEL):
        raise CLIError(f"{args.model} is a {kind} model; hgq pareto trains a float Keras model or an H-model")
    if (args.test_data is None) != (args.test_labels is None):
        raise CLIError("--test-data and --test-labels go together: give both or neither")
    x, x_val = load_data(args.data, model), load_data(args.validation_data, model, "--validation-data")
    y = load_data(args.labels, who="--labels")
    y_val = load_data(args.validation_labels, who="--validation-labels")
    pairs = [(x, y, "--data and --labels"), (x_val, y_val, "--validation-data and --validation-labels")]
    test_data = None
    if args.test_data is not None:
        test_data = (load_data(args.test_data, model, "--test-data"), load_data(args.test_labels, who="--test-labels"))
        pairs.append((*test_data, "--test-data and --test-labels"))
    for inputs, labels, names in pairs:
        if len(inputs) != len(labels):
            raise CLIError(f"{names} hold {len(inputs)} and {len(labels)} samples; they must be as many")
    from ..pareto import fit_pareto

    loss = _loss(args.loss)
    path = output_folder(args, "hgq pareto").path  # refused before training; fit_pareto checks it again
    recipe = {key: value for key, value in (("epochs", args.epochs), ("beta", args.beta),
                                            ("learning_rate", args.learning_rate), ("batch_size", args.batch_size),
                                            ("smoothing", args.smoothing))
              if value is not None}
    result = fit_pareto(model, x, y, (x_val, y_val), loss, path=path, metric=args.metric, test_data=test_data,
                        maximize=not args.lower_is_better, overwrite=args.overwrite, verbose=not args.quiet, **recipe)
    print(result.table())
    written = os.path.join(path, "front.csv") + ("" if result.plot is None else f" and {result.plot}")
    print(f"wrote {len(result.points)} designs and {written}; export one with: hgq export {path}/<design>.keras "
          "-o OUT")
    return 0
