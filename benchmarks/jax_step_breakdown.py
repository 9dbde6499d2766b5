"""Where a JAX training step's time goes, for the float model and the quantized one of ``train_overhead.py`` (ours) or
of ``train_overhead_hgq2.py`` (HGQ2's, with ``--peer`` and HGQ2's own Python). Per model, in milliseconds per step
(fastest epoch of each ``fit`` call, the first epoch dropped):

- ``fit``: Keras' ``fit`` as in the benchmark;
- ``loop only``: ``fit`` with the compiled step replaced by one that returns the state unchanged (batching, dispatch
  and Keras' state tracking, no arithmetic);
- ``compiled step``: the jitted ``train_step`` called back to back on one batch (MLP 200 calls, CNN 20), without
  ``fit``;
- ``state arrays``: trainable and non-trainable variables, optimizer slots and metric variables.

    python benchmarks/jax_step_breakdown.py [--model mlp|cnn]
    /tmp/hgq2venv/bin/python benchmarks/jax_step_breakdown.py --peer [--model mlp|cnn]
"""

import argparse
import importlib
import os
import time

os.environ["KERAS_BACKEND"] = "jax"  # before Keras is imported (by overhead_common too)
import jax
import keras
import overhead_common as common

CALLS = {"mlp": 200, "cnn": 20}  # compiled-step calls per timing


def fit_ms(model, x, y, batch_size, steps):
    return min(common.epoch_times(model, x, y, 4, batch_size)) / steps * 1e3


def loop_only_ms(model, x, y, batch_size, steps):
    """``fit_ms`` with a compiled step that returns the state unchanged (replaces the model's train function)."""
    logs = {"loss": jax.numpy.zeros(())}
    noop = jax.jit(lambda state, data: (logs, state), donate_argnums=0)
    model.train_function = lambda state, iterator: noop(state, next(iterator))
    return fit_ms(model, x, y, batch_size, steps)


def compiled_step_ms(model, x, y, batch_size, calls):
    """The jitted ``train_step`` alone, fastest of 5 timings of ``calls`` calls (donates the model's state: last)."""
    state = model._get_jax_state(trainable_variables=True, non_trainable_variables=True, optimizer_variables=True,
                                 metrics_variables=True)
    step = jax.jit(model.train_step, donate_argnums=0)
    data = (jax.numpy.asarray(x[:batch_size]), jax.numpy.asarray(y[:batch_size]))
    for _ in range(20):
        _, state = step(state, data)
    jax.block_until_ready(state)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls):
            _, state = step(state, data)
        jax.block_until_ready(state)
        times.append((time.perf_counter() - start) / calls)
    return min(times) * 1e3, len(jax.tree_util.tree_leaves(state))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(common.WORKLOADS), default="mlp")
    parser.add_argument("--peer", action="store_true", help="HGQ2's quantized model (run with HGQ2's Python)")
    args = parser.parse_args()
    data_fn, float_fn, description, (_, _, samples, batch_size) = common.WORKLOADS[args.model]
    module = importlib.import_module("train_overhead_hgq2" if args.peer else "train_overhead")
    label = "HGQ2" if args.peer else "HGQ"
    quantized_fn = getattr(module, ("hgq2_" if args.peer else "hgq_") + ("model" if args.model == "mlp" else "cnn"))
    x, y = data_fn(samples)
    steps = samples // batch_size
    print(f"{common.backend_versions()}; {description}, batch {batch_size}")
    print(f"{'model':<8}{'fit':>10}{'loop only':>11}{'compiled step':>15}{'state arrays':>14}   [ms/step]")
    for name, build in (("float", float_fn), (label, quantized_fn)):
        model = build()
        model.compile(optimizer=keras.optimizers.Adam(1e-3),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        fit = fit_ms(model, x, y, batch_size, steps)
        loop = loop_only_ms(model, x, y, batch_size, steps)
        step, arrays = compiled_step_ms(model, x, y, batch_size, CALLS[args.model])
        print(f"{name:<8}{fit:>10.3f}{loop:>11.3f}{step:>15.3f}{arrays:>14}", flush=True)


if __name__ == "__main__":
    main()
