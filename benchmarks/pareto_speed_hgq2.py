"""The price of HGQ2's front, for comparison with ``pareto_speed.py``: run with HGQ2's own Python (its virtual
environment; HGQ2 installs a top-level ``hgq`` too).

HGQ2's documented front (``example/larger_jet_tagger.ipynb``): ``model.fit`` with ``validation_data``,
``BetaScheduler(PieceWiseSchedule(...))``, ``FreeEBOPs`` and ``ParetoFront`` on ``(val_accuracy, ebops)``, against
``model.fit`` with the ``BetaScheduler`` alone; the same model (``pareto_digits_hgq2.hgq2_mlp``), data, epochs, ramp,
Adam from 3e-3 (decaying as ``fit_pareto``'s does) and batch 64 as ``pareto_speed.py``, alternating in one process
from the same initial weights. HGQ2's front is not calibrated while it is chosen (``FreeEBOPs`` counts from the
ranges seen in training; its users calibrate the saved models afterwards), so this measures less work than
``fit_pareto`` does.

    /tmp/hgq2venv/bin/python benchmarks/pareto_speed_hgq2.py [--backend tensorflow|jax] [--epochs 60] [--runs 2]
"""

import os
import tempfile

import pareto_common as common  # first: it sets KERAS_BACKEND from --backend

import keras  # after the backend is chosen
from hgq.utils.sugar import BetaScheduler, FreeEBOPs, ParetoFront, PieceWiseSchedule  # HGQ2's

from pareto_digits_hgq2 import hgq2_mlp

BETA = (1e-6, 1e-3)


def main():
    args = common.speed_arguments(__doc__.splitlines()[0])
    x_train, x_val, y_train, y_val = common.validation_split(*common.digits()[::2])
    warmup = args.epochs // 10
    schedule = PieceWiseSchedule([(0, BETA[0], "constant"), (warmup, BETA[0], "log"),
                                  (max(args.epochs - 1, warmup + 1), BETA[1], "constant")])
    keras.utils.set_random_seed(0)
    initial = hgq2_mlp(BETA[0])
    weights = initial.get_weights()

    def fit(front=None):
        model = keras.models.clone_model(initial)
        model.set_weights(weights)
        model.compile(keras.optimizers.Adam(common.learning_rate(3e-3, args.epochs, len(x_train), 64)), common.loss(),
                      metrics=["accuracy"])
        callbacks, extra = [BetaScheduler(schedule)], {}
        if front:
            callbacks += [FreeEBOPs(), ParetoFront(front, ["val_accuracy", "ebops"], [1, -1])]
            extra = {"validation_data": (x_val, y_val)}
        model.fit(x_train, y_train, epochs=args.epochs, batch_size=64, callbacks=callbacks, verbose=0, **extra)

    with tempfile.TemporaryDirectory() as workdir:
        times = common.median_times(args.runs, {
            "model.fit": lambda run: fit(),
            "with ParetoFront": lambda run: fit(os.path.join(workdir, f"front{run}"))})
    plain, front = times["model.fit"], times["with ParetoFront"]
    print(f"HGQ2 0.2.0, {keras.backend.backend()}: {args.epochs} epochs, median of {args.runs}: model.fit {plain:.2f} "
          f"s, with ParetoFront {front:.2f} s, ratio {front / plain:.2f}x")


if __name__ == "__main__":
    main()
