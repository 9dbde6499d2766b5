"""One test base for every quantized layer (after HGQ2's ``tests/base.py`` and Keras' ``run_layer_test``).

A layer's test class declares the layer and its input; it inherits five checks:

    class TestHDense(LayerTest):
        layer_cls = HDense
        kwargs = {"units": 4, "activation": "relu", "beta": 1e-5}
        input_shape = (6,)

- ``get_config`` / ``from_config`` (and Keras serialization) round trip;
- a ``.keras`` file saves and loads to identical outputs;
- one training step is finite and moves bit widths (the layer's own; a P-layer's gradient reaches its producer's);
- the proxy (``hgq.trace_minmax`` then ``hgq.to_proxy_model``) equals the H-model on in-range data, WRAP and SAT;
- hls4ml equals the proxy, overflowing data included (``bitexact.check_bit_exact``, one compiled project).

By default an ``HQuantize`` precedes the layer; override ``connect`` for layers with several inputs, or none.
Every quantizer gets random bit widths (1 to 4 fractional bits per element) before calibration, so the widths
are heterogeneous without training.
"""

import keras
import numpy as np
import pytest

import hgq
from hgq.layers import HQuantize

from bitexact import assert_exact, check_bit_exact

WIDTHS = "fractional_bits"


def bit_width_variables(layer_or_model):
    return [v for v in layer_or_model.trainable_weights if v.path.split("/")[-1] == WIDTHS]


class LayerTest:
    layer_cls = None
    kwargs = {}
    input_shape = (6,)
    n_samples = 1000
    scales = (2.5, 3.0)  # the overflowing data hls4ml is compared on
    io_type = "io_parallel"
    seed = 0

    def make_layer(self):
        return self.layer_cls(**self.kwargs, name="layer")

    def connect(self, layer, inp):
        """The model's output from its input: by default ``HQuantize -> layer``."""
        return layer(HQuantize(paq_conf={"init_bw": 4}, name="producer")(inp))

    def data(self):
        return np.random.default_rng(self.seed).normal(size=(self.n_samples, *self.input_shape)).astype("float32")

    def model(self, calibrate=True):
        """The layer in a model, heterogeneous widths, calibrated on ``data()``; returns model, layer and data."""
        keras.utils.set_random_seed(self.seed)
        inp = keras.Input(self.input_shape)
        layer = self.make_layer()
        model = keras.Model(inp, self.connect(layer, inp))
        rng = np.random.default_rng(self.seed + 1)
        for v in bit_width_variables(model):
            v.assign(rng.integers(1, 5, size=v.shape).astype(v.dtype))
        x = self.data()
        if calibrate:
            hgq.trace_minmax(model, x)
        return model, layer, x

    # ------------------------------------------------------------------------------------------ the checks

    def test_config_round_trip(self):
        layer = self.make_layer()
        config = layer.get_config()
        clone = self.layer_cls.from_config(config)
        assert type(clone) is self.layer_cls and clone.get_config() == config
        revived = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
        assert type(revived) is self.layer_cls and revived.get_config() == config

    def test_keras_file_round_trip(self, tmp_path):
        model, layer, x = self.model()
        path = tmp_path / "model.keras"
        model.save(path)
        loaded = keras.saving.load_model(path)
        assert type(loaded.get_layer("layer")) is self.layer_cls
        assert loaded.get_layer("layer").get_config() == layer.get_config()
        assert_exact(loaded.predict(x, verbose=0), model.predict(x, verbose=0), "loaded vs saved model")

    def test_training_step_moves_bit_widths(self):
        model, layer, x = self.model()
        # a P-layer has no widths of its own: its gradient must reach the producer's
        watched = bit_width_variables(layer) or bit_width_variables(model)
        assert watched, "no trainable bit widths in the model"
        before = [np.array(v) for v in watched]
        y = np.random.default_rng(self.seed + 2).normal(size=(len(x), *model.output_shape[1:])).astype("float32")
        model.compile(keras.optimizers.Adam(0.1), "mse")
        loss = model.train_on_batch(x[:128], y[:128])
        assert np.all(np.isfinite(loss)), f"loss {loss}"
        moved = [v.path for v, b in zip(watched, before) if not np.array_equal(np.array(v), b)]
        assert moved, f"one training step moved none of {[v.path for v in watched]}"

    @pytest.mark.parametrize("aggressive", [True, False], ids=["WRAP", "SAT"])
    def test_proxy_equals_model(self, aggressive):
        model, _, x = self.model()
        proxy = hgq.to_proxy_model(model, aggressive=aggressive)
        assert_exact(proxy.predict(x.astype(np.float64), verbose=0), model.predict(x, verbose=0),
                     "proxy vs H-model on in-range data")

    @pytest.mark.hls4ml
    def test_hls4ml_bit_exact(self, hls4ml_projects):
        model, _, x = self.model()
        proxy = hgq.to_proxy_model(model, aggressive=True)
        check_bit_exact(proxy, x, hls4ml_projects(proxy, self.io_type), model=model, scales=self.scales)
