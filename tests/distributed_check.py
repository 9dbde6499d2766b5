"""Run by test_distributed.py in a fresh process: TensorFlow must split the CPU into two logical devices
before it starts. Prints one JSON line with the comparisons."""

import json
import sys
import tempfile

import tensorflow as tf

tf.config.set_logical_device_configuration(tf.config.list_physical_devices("CPU")[0],
                                           [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

import hgq  # noqa: E402
from hgq.calibration import all_quantizers  # noqa: E402
from hgq.layers import HActivation, HDense, HQuantize  # noqa: E402
from hgq.proxy import convert_to_hls4ml, hls4ml_predict  # noqa: E402


def deterministic_mlp():
    """No random rounding, so that one and two replicas see the same quantized values."""
    inp = keras.Input((16,))
    x = HQuantize(paq_conf={"init_bw": 4})(inp)
    x = HDense(24, activation="relu", beta=1e-5)(x)
    x = HActivation("relu")(HDense(16, use_bias=False, beta=1e-5)(x))
    return keras.Model(inp, HDense(5, beta=1e-5)(x))


def records(model):
    return [ops.convert_to_numpy(v) for q in all_quantizers(model) if q.records_minmax for v in (q.vmin, q.vmax)]


def fit_once(strategy, weights, x, y, learning_rate):
    with strategy.scope():
        model = deterministic_mlp()
        model.set_weights(weights)
        model.compile(keras.optimizers.SGD(learning_rate), "mse")
    model.fit(x, y, epochs=1, batch_size=128, shuffle=False, verbose=0)
    return model


def main():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2048, 16)).astype("float32")
    y = np.tanh(x[:, :5] * x[:, 5:10]).astype("float32")
    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    weights = deterministic_mlp().get_weights()

    # Training records with frozen weights: two replicas must record what one device records.
    single = fit_once(tf.distribute.get_strategy(), weights, x, y, 0.0)
    double = fit_once(mirrored, weights, x, y, 0.0)
    training_records_equal = all(np.array_equal(a, b) for a, b in zip(records(single), records(double)))
    training_bops = [hgq.total_bops(single), hgq.total_bops(double)]

    # Real distributed training, then calibration compared with a single-device copy of the same weights.
    trained = fit_once(mirrored, weights, x, y, 1e-2)
    copy = deterministic_mlp()
    copy.set_weights(trained.get_weights())
    calibrated_bops = [hgq.trace_minmax(trained, x), hgq.trace_minmax(copy, x)]
    calibration_records_equal = all(np.array_equal(a, b) for a, b in zip(records(trained), records(copy)))

    proxy = hgq.to_proxy_model(trained)
    with tempfile.TemporaryDirectory() as prj:
        hls_model = convert_to_hls4ml(proxy, prj)
        hls_model.compile()
        x_all = np.concatenate([x[:1000], 3 * x[:1000]]).astype(np.float64)
        bit_exact = bool(np.array_equal(proxy.predict(x_all, verbose=0),
                                        hls4ml_predict(hls_model, x_all, proxy.output_shape[1:])))
    print(json.dumps({
        "replicas": mirrored.num_replicas_in_sync,
        "training_records_equal": training_records_equal, "training_bops": training_bops,
        "calibration_records_equal": calibration_records_equal, "calibrated_bops": calibrated_bops,
        "weights_moved": not all(np.array_equal(a, b) for a, b in zip(weights, trained.get_weights())),
        "hls4ml_bit_exact": bit_exact, "samples": len(x_all),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
