"""Run in a fresh process by the distributed tests: devices, workers and processes must be set up before
TensorFlow or JAX starts. Trains one H-model on one device and data-parallel on two, and prints one JSON line with
the comparisons.

    python distributed_check.py mirrored       # TensorFlow MirroredStrategy on two logical CPU devices
    python distributed_check.py multiworker    # TensorFlow MultiWorkerMirroredStrategy: this worker of TF_CONFIG
    python distributed_check.py dataparallel   # JAX DataParallel on XLA_FLAGS=--xla_force_host_platform_device_count=2
    python distributed_check.py processes      # JAX DataParallel: this process of KERAS_DISTRIBUTION_* (one CPU each)

The caller sets ``KERAS_BACKEND`` (and ``JAX_ENABLE_X64=1`` for JAX).

No hls4ml here: the distributed model's proxy must be the very proxy of a one-device copy of its weights (the same
config and every weight, ``bitexact.fingerprint``), so compiling it would check hls4ml against a one-device proxy of
this MLP, which ``test_hls4ml.py::test_heterogeneous_mlp_io_parallel`` does on both backends (``conftest.mlp``: the
same layers; >= 1000 samples, overflowing ones included).
"""

import contextlib
import json
import os
import sys
import time

import numpy as np

BATCH = 128  # global batch: every setting steps through the same batches
START = time.monotonic()


class Setting:
    """How to train on several devices: ``scope()`` to build, compile and train in, this process's share of the
    data (``local_data``) and how to step through it (``train``)."""

    processes, process = 1, 0

    def local_data(self, x, y):
        """This process's part of every global batch, and the per-process batch size."""
        part = BATCH // self.processes
        rows = np.arange(len(x)).reshape(-1, self.processes, part)[:, self.process].ravel()
        return x[rows], y[rows], part

    def train(self, model, x, y, batch_size):
        model.fit(x, y, epochs=1, batch_size=batch_size, shuffle=False, verbose=0)

    def custom_step_checks(self, weights, x, expected_records):
        """Checks particular to this setting: ``{name: passed}``."""
        return {}


class TFMirrored(Setting):
    """Two logical CPU devices in one process; the strategy splits each global batch between them."""

    def __init__(self):
        import tensorflow as tf

        tf.config.set_logical_device_configuration(tf.config.list_physical_devices("CPU")[0],
                                                   [tf.config.LogicalDeviceConfiguration()] * 2)
        self.strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        self.replicas = self.strategy.num_replicas_in_sync

    def scope(self):
        return self.strategy.scope()


class TFMultiWorker(TFMirrored):
    """One CPU in each worker process of ``TF_CONFIG``, each feeding its part of every global batch."""

    def __init__(self):
        import tensorflow as tf

        self.strategy = tf.distribute.MultiWorkerMirroredStrategy()
        self.replicas = self.strategy.num_replicas_in_sync
        self.processes, self.process = self.replicas, self.strategy.cluster_resolver.task_id

    def train(self, model, x, y, batch_size):
        """Keras' training step in a loop of ``strategy.run``: Keras 3's ``fit`` and ``train_on_batch`` fail under
        this strategy (they reduce per-replica batches and scalar logs in ways it refuses, keras-team/keras#20585)."""
        import tensorflow as tf

        def replica_step(xb, yb):
            with tf.GradientTape() as tape:
                loss = model.compute_loss(xb, yb, model(xb, training=True), training=True)
            model.optimizer.apply(tape.gradient(loss, model.trainable_variables), model.trainable_variables)

        step = tf.function(lambda xb, yb: self.strategy.run(replica_step, args=(xb, yb)))
        model.optimizer.build(model.trainable_variables)
        for start in range(0, len(x), batch_size):
            step(tf.constant(x[start:start + batch_size]), tf.constant(y[start:start + batch_size]))


class JAXDataParallel(Setting):
    """``keras.distribution.DataParallel`` over every JAX device of every process."""

    def __init__(self):
        import keras

        if os.environ.get("KERAS_DISTRIBUTION_NUM_PROCESSES"):
            keras.distribution.initialize()  # job addresses, process count and id from KERAS_DISTRIBUTION_*
        import jax

        self.processes, self.process = jax.process_count(), jax.process_index()
        # NumPy data: each process passes its own part of every global batch (``local_data``), not sharded by Keras
        self.distribution = keras.distribution.DataParallel(devices=keras.distribution.list_devices("cpu"),
                                                            auto_shard_dataset=False)
        self.replicas = len(jax.devices())

    def scope(self):
        return self.distribution.scope()

    def custom_step_checks(self, weights, x, expected_records):
        """One process: a custom step, one training-mode pass over ``x`` in ``jax.shard_map`` over the batch axis,
        each device on its shard, must record ``expected_records``: hgq reduces them with ``lax.pmin``/``pmax``
        (unchecked by shard_map here, so that unreduced records come back as the first device's, not as an error)."""
        if self.processes > 1:
            return {}
        import jax

        P = jax.sharding.PartitionSpec
        model = deterministic_mlp()
        model.set_weights(weights)

        def forward(trainable, non_trainable, xb):
            return model.stateless_call(trainable, non_trainable, xb, training=True)[1]

        step = jax.shard_map(forward, mesh=self.distribution.device_mesh.backend_mesh,
                             in_specs=(P(), P(), P(self.distribution.batch_dim_name)), out_specs=P(), check_vma=False)
        with self.scope():
            values = jax.jit(step)([v.value for v in model.trainable_variables],
                                   [v.value for v in model.non_trainable_variables], x)
        for variable, value in zip(model.non_trainable_variables, values):
            variable.assign(value)
        return {"shard_map_records_equal": all_equal(records(model), expected_records)}


SETTINGS = {"mirrored": TFMirrored, "multiworker": TFMultiWorker, "dataparallel": JAXDataParallel,
            "processes": JAXDataParallel}


def deterministic_mlp():
    """No random rounding, so that one and two devices see the same quantized values. Every name fixed, so that
    the proxies of two such models are the same model when their weights and calibrations are."""
    import keras

    from hgq.layers import HActivation, HDense, HQuantize

    inp = keras.Input((16,), name="x")
    x = HQuantize(paq_conf={"init_bw": 4}, name="inp_q")(inp)
    x = HDense(24, activation="relu", beta=1e-5, name="dense1")(x)
    x = HActivation("relu", name="act")(HDense(16, use_bias=False, beta=1e-5, name="dense2")(x))
    return keras.Model(inp, HDense(5, beta=1e-5, name="out")(x), name="mlp")


def records(model):
    from keras import ops

    from hgq.calibration import all_quantizers

    return [ops.convert_to_numpy(v) for q in all_quantizers(model) if q.records_minmax for v in (q.vmin, q.vmax)]


def all_equal(a, b):
    return len(a) == len(b) and all(np.array_equal(u, v) for u, v in zip(a, b))


def stage(name):
    """Progress on stderr, which the tests show when a check fails."""
    print(f"distributed_check: {time.monotonic() - START:6.1f} s  {name}", file=sys.stderr, flush=True)


def first_halves(a):
    """The first half of every global batch: what the first of two replicas sees."""
    return a.reshape(-1, 2, BATCH // 2, *a.shape[1:])[:, 0].reshape(-1, *a.shape[1:])


def fit_once(setting, weights, data, learning_rate):
    """A fresh model with ``weights``, trained one epoch on ``data`` (one device when ``setting`` is None)."""
    import keras

    with setting.scope() if setting else contextlib.nullcontext():
        model = deterministic_mlp()
        model.set_weights(weights)
        model.compile(keras.optimizers.SGD(learning_rate), "mse")
        (setting or Setting()).train(model, *data)
    return model


def main(mode):
    setting = SETTINGS[mode]()  # before anything else touches the devices
    stage(f"{mode}: {setting.replicas} replicas, process {setting.process} of {setting.processes}")
    import keras

    import hgq

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1024, 16)).astype("float32")
    y = np.tanh(x[:, :5] * x[:, 5:10]).astype("float32")
    weights = deterministic_mlp().get_weights()
    whole, local = (x, y, BATCH), setting.local_data(x, y)

    # Training records with frozen weights: the replicas together must record what one device records.
    single = fit_once(None, weights, whole, 0.0)
    stage("trained on one device")
    double = fit_once(setting, weights, local, 0.0)
    training_records_equal = all_equal(records(single), records(double))
    stage("trained data-parallel")
    half = fit_once(None, weights, (first_halves(x), first_halves(y), BATCH // 2), 0.0)
    one_replica_alone_differs = not all_equal(records(single), records(half))  # so reductions are needed
    training_bops = [hgq.total_bops(single), hgq.total_bops(double)]
    custom_step_checks = setting.custom_step_checks(weights, x, records(single))
    stage("trained one replica's share; custom steps")

    # Real distributed training; calibration and proxy compared with a one-device copy of the same weights.
    trained = fit_once(setting, weights, local, 1e-2)
    stage("trained data-parallel with learning rate")
    copy = deterministic_mlp()
    copy.set_weights(trained.get_weights())
    calibrated_bops = [hgq.trace_minmax(trained, x), hgq.trace_minmax(copy, x)]
    calibration_records_equal = all_equal(records(trained), records(copy))
    from bitexact import fingerprint

    proxy, copy_proxy = hgq.to_proxy_model(trained), hgq.to_proxy_model(copy)
    x_all = np.concatenate([x[:1000], 3 * x[:1000]]).astype(np.float64)
    proxy_equal = bool(np.array_equal(proxy.predict(x_all, verbose=0), copy_proxy.predict(x_all, verbose=0)))
    proxy_same = fingerprint(proxy) == fingerprint(copy_proxy)
    stage("calibrated and compared proxies")
    result = {
        "replicas": setting.replicas,
        "training_records_equal": training_records_equal, "training_bops": training_bops,
        "one_replica_alone_differs": one_replica_alone_differs,
        "calibration_records_equal": calibration_records_equal, "calibrated_bops": calibrated_bops,
        "weights_moved": not all_equal(weights, trained.get_weights()), "proxy_equal": proxy_equal,
        "proxy_same": proxy_same,
        **custom_step_checks,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
