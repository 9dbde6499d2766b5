"""The price of a front: ``hgq.fit_pareto`` against ``model.fit`` with the same BOPs-weight ramp, epochs, optimizer
and batch on the same H-model, measured in one process (the ratio is what is reported).

The digits MLP of ``pareto_common.py`` (quantized by ``hgq.quantize_model``), 1,257 training samples; the plain run is
``model.fit(x, y, callbacks=[BetaScheduler(LogRampBeta(...))])``, the ramp ``fit_pareto`` builds from its own
defaults. The two runs alternate (``--runs`` pairs) from the same initial weights; each run's first epoch (tracing and
compiling) is timed too, as a user waits for it.

    .venv/bin/python benchmarks/pareto_speed.py [--backend tensorflow|jax] [--epochs 60] [--runs 2]
"""

import argparse
import inspect
import os
import statistics
import sys
import tempfile
import time

import pareto_common as common  # first: it sets KERAS_BACKEND from --backend

import keras  # after the backend is chosen

import hgq


def fit_pareto_defaults():
    """``fit_pareto``'s own learning rate, batch and beta ramp."""
    defaults = {name: p.default for name, p in inspect.signature(hgq.fit_pareto).parameters.items()}
    return {key: defaults[key] for key in ("learning_rate", "batch_size", "beta")}


def plain_fit(model, x, y, epochs, options):
    """``model.fit`` with ``fit_pareto``'s optimizer, batch and beta ramp."""
    warmup = epochs // 10
    model.compile(keras.optimizers.Adam(options["learning_rate"]), common.loss())
    ramp = hgq.BetaScheduler(hgq.LogRampBeta(*options["beta"], warmup, max(epochs - 1, warmup + 1)))
    model.fit(x, y, epochs=epochs, batch_size=options["batch_size"], callbacks=[ramp], verbose=0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("tensorflow", "jax"))
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--runs", type=int, default=2, help="pairs of runs (plain fit, fit_pareto)")
    args = parser.parse_args()
    x_train, x_val, y_train, y_val = common.validation_split(*common.digits()[::2])
    options = fit_pareto_defaults()
    keras.utils.set_random_seed(0)
    h_model = hgq.quantize_model(common.float_mlp())
    initial = h_model.get_weights()
    times = {"model.fit": [], "fit_pareto": []}
    with tempfile.TemporaryDirectory() as workdir:
        for run in range(args.runs):
            for kind in times:
                model = keras.models.clone_model(h_model)
                model.set_weights(initial)
                start = time.perf_counter()
                if kind == "model.fit":
                    plain_fit(model, x_train, y_train, args.epochs, options)
                else:
                    hgq.fit_pareto(model, x_train, y_train, (x_val, y_val), common.loss(),
                                   path=os.path.join(workdir, f"front{run}"), epochs=args.epochs, verbose=False)
                times[kind].append(time.perf_counter() - start)
                print(f"run {run}: {kind} {times[kind][-1]:.2f} s", file=sys.stderr, flush=True)
    fit, pareto = (statistics.median(times[k]) for k in ("model.fit", "fit_pareto"))
    print(f"{keras.backend.backend()}: {args.epochs} epochs, median of {args.runs}: model.fit {fit:.2f} s, "
          f"fit_pareto {pareto:.2f} s, ratio {pareto / fit:.2f}x")


if __name__ == "__main__":
    main()
