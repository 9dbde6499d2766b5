"""Data-parallel training on two devices, workers or processes: records, BOPs, calibration and the proxy agree with
one device (``distributed_check.py``, in fresh processes that set up their devices before TensorFlow or JAX starts).

- TensorFlow ``MirroredStrategy`` on two logical CPU devices;
- TensorFlow ``MultiWorkerMirroredStrategy``: two worker processes on localhost (``TF_CONFIG``);
- JAX ``keras.distribution.DataParallel`` on two virtual CPU devices;
- JAX ``DataParallel`` over two processes on localhost (``keras.distribution.initialize``), one CPU each.

The distributed model's proxy is the very proxy of a one-device copy (config and weights), so hls4ml is not
compiled here: hls4ml against one-device proxies of this MLP is ``test_hls4ml.py``'s (``distributed_check.py``).

Each sets its own ``KERAS_BACKEND``, so the module runs in the TensorFlow pass only.
"""

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

import pytest

pytestmark = [pytest.mark.once]

SCRIPT = os.path.join(os.path.dirname(__file__), "distributed_check.py")
TIMEOUT_S = 420
OPT0 = "--xla_backend_optimization_level=0"  # as conftest.py: small programs, mostly compiled once
JAX = {"KERAS_BACKEND": "jax", "JAX_ENABLE_X64": "1", "JAX_PLATFORMS": "cpu", "XLA_FLAGS": OPT0}
CLUSTER_VARIABLES = ("TF_CONFIG", "KERAS_DISTRIBUTION_JOB_ADDRESSES", "KERAS_DISTRIBUTION_NUM_PROCESSES",
                     "KERAS_DISTRIBUTION_PROCESS_ID")  # set per setting, never inherited


def free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def tf_workers(ports):
    cluster = {"worker": [f"localhost:{p}" for p in ports]}
    return [{"TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}})}
            for i in range(len(ports))]


def jax_processes(ports):
    return [{"KERAS_DISTRIBUTION_JOB_ADDRESSES": f"localhost:{ports[0]}",
             "KERAS_DISTRIBUTION_NUM_PROCESSES": str(len(ports)), "KERAS_DISTRIBUTION_PROCESS_ID": str(i)}
            for i in range(len(ports))]


# setting -> (arguments of distributed_check.py, environment, the environment of each process given free ports)
SETTINGS = {
    "tf-mirrored": (["mirrored"], {"KERAS_BACKEND": "tensorflow"}, None),
    "tf-multiworker": (["multiworker"], {"KERAS_BACKEND": "tensorflow"}, tf_workers),
    "jax-dataparallel": (["dataparallel"], {**JAX, "XLA_FLAGS": f"--xla_force_host_platform_device_count=2 {OPT0}"}, None),
    "jax-processes": (["processes"], JAX, jax_processes),
}


def run_check(args, env, per_process):
    """Start one process (or one per ``per_process`` environment) and wait for all; on a failure, or when one
    process fails or the time is up, stop the others and fail with every process's stderr tail. Returns the JSON
    that every process printed (they must agree)."""
    envs = per_process(free_ports(2)) if per_process else [{}]
    inherited = {k: v for k, v in os.environ.items() if k not in CLUSTER_VARIABLES}
    base = {**inherited, "TF_CPP_MIN_LOG_LEVEL": "3", **env}
    with contextlib.ExitStack() as files:
        logs = [(files.enter_context(tempfile.TemporaryFile("w+")), files.enter_context(tempfile.TemporaryFile("w+")))
                for _ in envs]
        procs = [subprocess.Popen([sys.executable, SCRIPT, *args], env={**base, **extra}, cwd=os.path.dirname(SCRIPT),
                                  stdout=out, stderr=err, text=True) for extra, (out, err) in zip(envs, logs)]
        deadline = time.monotonic() + TIMEOUT_S
        while any(p.poll() is None for p in procs) and time.monotonic() < deadline \
                and all(p.returncode in (None, 0) for p in procs):
            time.sleep(0.2)
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        texts = []
        for out, err in logs:
            out.seek(0)
            err.seek(0)
            texts.append((out.read(), err.read()))
    tails = "\n".join(f"--- process {i} (exit {p.returncode}) stderr tail:\n{err[-2500:]}"
                       for i, (p, (_, err)) in enumerate(zip(procs, texts)))
    if any(p.returncode != 0 for p in procs):
        pytest.fail(f"distributed_check.py {' '.join(args)} failed or ran past {TIMEOUT_S} s:\n{tails}")
    try:
        results = [json.loads(out.strip().splitlines()[-1]) for out, _ in texts]
    except (IndexError, ValueError):
        pytest.fail(f"distributed_check.py {' '.join(args)} printed no JSON line last:\n{tails}")
    if any(r != results[0] for r in results):
        pytest.fail(f"the processes disagree: {results}")
    return results[0]


@pytest.mark.parametrize("setting", SETTINGS)
def test_data_parallel_training_equals_one_device(setting):
    """One check per setting (one test, so that pytest-xdist runs each only once):

    - two replicas ran and training moved the weights;
    - with frozen weights, the data-parallel min/max records and BOPs equal one device's on the same batches (the
      min of the replicas' mins, the max of their maxes), while one replica alone records something else;
    - after real data-parallel training, ``trace_minmax`` records and BOPs, and the proxy's outputs on in-range and
      overflowing data, equal those of a one-device copy of the trained weights, and the proxy is that copy's
      proxy (the same config and weights, ``bitexact.fingerprint``: the same hls4ml project);
    - JAX on one process: a custom ``shard_map`` step over the batch axis records what one device records.
    """
    result = run_check(*SETTINGS[setting])
    assert result["replicas"] == 2 and result["weights_moved"], result
    assert result["one_replica_alone_differs"], f"the test data cannot tell one replica from all: {result}"
    assert result["training_records_equal"], f"training records differ from one device's: {result}"
    assert result["training_bops"][0] == result["training_bops"][1] > 0, result
    assert result["calibration_records_equal"], f"trace_minmax records differ from one device's: {result}"
    assert result["calibrated_bops"][0] == result["calibrated_bops"][1] > 0, result
    assert result["proxy_equal"], f"the proxy differs from a one-device copy's: {result}"
    assert result["proxy_same"], f"the proxy is not the model that a one-device copy exports: {result}"
    if setting == "jax-dataparallel":
        assert result["shard_map_records_equal"], f"shard_map step records differ from one device's: {result}"
