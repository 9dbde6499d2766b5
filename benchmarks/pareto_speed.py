"""The price of a front: ``hgq.fit_pareto`` against ``model.fit`` with the same BOPs-weight ramp, epochs, optimizer
and batch on the same H-model, measured in one process (the ratio is what is reported).

The digits MLP of ``pareto_common.py`` (quantized by ``hgq.quantize_model``), 1,257 training samples; the plain run is
``model.fit(x, y, callbacks=[BetaScheduler(LogRampBeta(...))])``, the ramp ``fit_pareto`` builds from its own
defaults. The two runs alternate (``--runs`` pairs) from the same initial weights; each run's first epoch (tracing and
compiling) is timed too, as a user waits for it.

    .venv/bin/python benchmarks/pareto_speed.py [--backend tensorflow|jax] [--epochs 60] [--runs 2]
"""

import inspect
import os
import tempfile

import pareto_common as common  # first: it sets KERAS_BACKEND from --backend

import keras  # after the backend is chosen

import hgq


def fit_pareto_defaults():
    """``fit_pareto``'s own learning rate, batch and beta ramp."""
    defaults = {name: p.default for name, p in inspect.signature(hgq.fit_pareto).parameters.items()}
    return {key: defaults[key] for key in ("learning_rate", "batch_size", "beta")}


def plain_fit(model, x, y, epochs, options):
    """``model.fit`` with ``fit_pareto``'s optimizer (its learning rate decaying as ``fit_pareto``'s does), batch
    and beta ramp."""
    warmup = epochs // 10
    rate = common.learning_rate(options["learning_rate"], epochs, len(x), options["batch_size"])
    model.compile(keras.optimizers.Adam(rate), common.loss())
    ramp = hgq.BetaScheduler(hgq.LogRampBeta(*options["beta"], warmup, max(epochs - 1, warmup + 1)))
    model.fit(x, y, epochs=epochs, batch_size=options["batch_size"], callbacks=[ramp], verbose=0)


def main():
    args = common.speed_arguments(__doc__.splitlines()[0])
    x_train, x_val, y_train, y_val = common.validation_split(*common.digits()[::2])
    options = fit_pareto_defaults()
    keras.utils.set_random_seed(0)
    h_model = hgq.quantize_model(common.float_mlp())
    initial = h_model.get_weights()

    def fresh():
        model = keras.models.clone_model(h_model)
        model.set_weights(initial)
        return model

    with tempfile.TemporaryDirectory() as workdir:
        times = common.median_times(args.runs, {
            "model.fit": lambda run: plain_fit(fresh(), x_train, y_train, args.epochs, options),
            "fit_pareto": lambda run: hgq.fit_pareto(fresh(), x_train, y_train, (x_val, y_val), common.loss(),
                                                     path=os.path.join(workdir, f"front{run}"), epochs=args.epochs,
                                                     verbose=False)})
    fit, pareto = times["model.fit"], times["fit_pareto"]
    print(f"{keras.backend.backend()}: {args.epochs} epochs, median of {args.runs}: model.fit {fit:.2f} s, "
          f"fit_pareto {pareto:.2f} s, ratio {pareto / fit:.2f}x")


if __name__ == "__main__":
    main()
