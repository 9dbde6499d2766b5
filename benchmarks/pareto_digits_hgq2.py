"""HGQ2's digits front, for comparison with ``pareto_digits.py`` (which runs this script): run with HGQ2's own Python.

HGQ2 (PyPI ``hgq2``) installs a top-level ``hgq`` module too, so it lives in its own virtual environment. Data, the
neutral BOPs count and the report are ``pareto_common.py``'s. The recipe is the one HGQ2 documents
(``example/larger_jet_tagger.ipynb``): HGQ2's layers with their defaults (``QDense`` 32-32-10, ReLU, an input
quantizer on the first), Adam, ``BetaScheduler(PieceWiseSchedule(...))``, ``FreeEBOPs``, and ``ParetoFront`` on
``(val_accuracy, ebops)``; with the same epochs, ``beta`` ramp (constant, then log-linear), learning rate (decayed
along a cosine to a tenth at the last step, ``pareto_common.learning_rate``) and batch as ``hgq.fit_pareto``'s
(passed by ``pareto_digits.py``), trained on the same 1005 samples and choosing on the same 252 validation samples
(``pareto_common.validation_split``). Each saved model is then calibrated as HGQ2 documents
(``hgq.utils.trace_minmax`` on the training samples), converted to hls4ml as it is, counted, and its validation and
test accuracy taken after calibration.

    /tmp/hgq2venv/bin/python benchmarks/pareto_digits_hgq2.py [--backend tensorflow|jax] [--epochs N] ...
"""

import argparse
import glob
import os
import tempfile
import time

import pareto_common as common  # first: it sets KERAS_BACKEND from --backend

import keras  # after the backend is chosen
import numpy as np
from hgq.layers import QDense  # HGQ2's
from hgq.utils import trace_minmax
from hgq.utils.sugar import BetaScheduler, FreeEBOPs, ParetoFront, PieceWiseSchedule


def hgq2_mlp(beta):
    x = keras.Input((64,), name="pixels")
    y = QDense(32, activation="relu", beta0=beta, name="dense1")(x)
    y = QDense(32, activation="relu", beta0=beta, name="dense2")(y)
    return keras.Model(x, QDense(10, beta0=beta, name="head")(y), name="digits_hgq2_mlp")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("tensorflow", "jax"))
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--beta", type=float, nargs=2, default=(1e-6, 1e-4))
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    x_train, x_test, y_train, y_test = common.digits()
    x_train, x_val, y_train, y_val = common.validation_split(x_train, y_train)
    keras.utils.set_random_seed(args.seed)
    model = hgq2_mlp(args.beta[0])
    learning_rate = common.learning_rate(args.learning_rate, args.epochs, len(x_train), args.batch_size)
    model.compile(keras.optimizers.Adam(learning_rate),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    schedule = PieceWiseSchedule([(0, args.beta[0], "constant"), (args.warmup, args.beta[0], "log"),
                                  (args.epochs - 1, args.beta[1], "constant")])
    with tempfile.TemporaryDirectory() as workdir:
        front = os.path.join(workdir, "front")
        start = time.perf_counter()
        model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size, validation_data=(x_val, y_val),
                  verbose=0, callbacks=[BetaScheduler(schedule), FreeEBOPs(),
                                        ParetoFront(front, ["val_accuracy", "ebops"], [1, -1])])
        seconds = time.perf_counter() - start
        points = []
        for index, path in enumerate(sorted(glob.glob(os.path.join(front, "*.keras")))):
            saved = keras.models.load_model(path)
            ebops = trace_minmax(saved, x_train, verbose=False)
            hls_model = common.hls4ml_graph(saved, os.path.join(workdir, f"prj{index}"))
            accuracy = {f"{name}_accuracy": float(np.mean(np.argmax(saved.predict(x, verbose=0, batch_size=1024),
                                                                     axis=1) == y))
                        for name, x, y in (("val", x_val, y_val), ("test", x_test, y_test))}
            epoch = int(os.path.basename(path).split("_")[0].split("=")[1])
            points.append({"epoch": epoch, "own_bops": float(ebops), "neutral_bops": common.neutral_bops(hls_model),
                           **accuracy})
    common.report(f"hgq2 0.2.0 ({keras.backend.backend()})", points, seconds)


if __name__ == "__main__":
    main()
