"""One test base for every layer class (after HGQ2's ``tests/base.py`` and Keras' ``run_layer_test``).

A layer's test class declares the layer, its input and its weight counts; it inherits the checks:

    class TestHDense(LayerTest):
        layer_cls = HDense
        kwargs = {"units": 4, "activation": "relu", "beta": 1e-5}
        input_shape = (6,)
        expected_trainable_weights, expected_non_trainable_weights = 4, 3

Every layer (``LayerChecks``):

- ``get_config`` / ``from_config`` (and Keras serialization) round trip;
- a ``.keras`` file saves and loads to identical weights and outputs;
- its weight counts, where the class declares them (``expected_weights``, ``expected_trainable_weights``,
  ``expected_non_trainable_weights``: every variable of the layer and its sub-layers, once the model is built);
- its output shape called on a ``keras.KerasTensor`` (in the model) equals that of its eager output on a real
  batch, and ``compute_output_shape`` (where the layer has one) agrees.

H-layers and P-layers (``LayerTest``), besides:

- the loaded ``.keras`` file has the same BOPs;
- one training step is finite and moves bit widths (the layer's own; a P-layer's gradient reaches its producer's),
  under the float32 policy; under ``mixed_bfloat16`` the hgq layers compute in float32 (a plain Keras head in
  bfloat16: docs/quantizer.md, "Mixed precision"), and one class of each kind of layer takes the step there too
  (``mixed_training_step``);
- the proxy (``hgq.trace_minmax`` then ``hgq.to_proxy_model``) equals the H-model on in-range data, WRAP and SAT;
- hls4ml equals the proxy, overflowing data included (``bitexact.check_bit_exact``), under each of the class's
  ``strategies`` (Latency, Resource at reuse factor 1, distributed arithmetic: those hls4ml offers for the layer).
  The proxies of every selected test class are compiled side by side as one hls4ml project per ``io_type`` and
  strategy (``bitexact.SideBySide``, the ``layer_project`` fixture): a layer adds its code to those
  projects, not compiles to the suite. A class whose layer hls4ml cannot build next to some other (e.g. 1-D and 2-D
  depthwise convolutions, whose headers share an include guard) names a ``project`` of its own.

By default an ``HQuantize`` precedes the layer; override ``connect`` for layers with several inputs, or none.
Every quantizer gets random bit widths (1 to 4 fractional bits per element) before calibration, so the widths
are heterogeneous without training.

Proxy layers (``ProxyLayerTest``: ``FixedPointQuantizer``, ``UnaryLUT``) have no bit widths to train; ``connect``
builds a small proxy around the layer (float64) and hls4ml must equal it, overflowing inputs included.
"""

import keras
import numpy as np
import pytest
from keras import ops

import hgq
from hgq.layers import HQuantize
from hgq.proxy import FixedPointQuantizer
from hgq.quantizer.quantizer import EXACT_DTYPES, ExactDType

from bitexact import assert_exact, check_bit_exact, proxy_predict

WIDTHS = "fractional_bits"
NO_RESOURCE = ("latency", "distributed_arithmetic")  # einsums: hls4ml has no Resource implementation (refused)
#: Layers whose hls4ml code no strategy changes: hls4ml reads the strategy of Dense, Conv1D/2D (pointwise included),
#: EinsumDense and Einsum only (``VivadoBackend``'s layer optimizers; a depthwise convolution takes Latency's under
#: distributed arithmetic), so their other strategies would compile the same code again.
SAME_CODE = ("latency",)


def bit_width_variables(layer_or_model):
    return [v for v in layer_or_model.trainable_weights if v.path.split("/")[-1] == WIDTHS]


def hgq_layers(model):
    """The hgq layers of ``model`` and their quantizer sub-layers."""
    layers = [layer for layer in model.layers if isinstance(layer, ExactDType)]
    return layers + [q for layer in layers if hasattr(layer, "quantizers") for q in layer.quantizers()]


def shapes(tensors):
    return [tuple(t.shape) for t in tensors] if isinstance(tensors, (list, tuple)) else tuple(tensors.shape)


class LayerChecks:
    layer_cls = None
    kwargs = {}
    input_shape = (6,)
    input_dtype = "float32"
    n_samples = 1000
    seed = 0
    expected_weights = None
    expected_trainable_weights = None
    expected_non_trainable_weights = None
    project = None  # hls4ml check: the label of a project of its own (layers hls4ml cannot build together)

    def make_layer(self):
        return self.layer_cls(**self.kwargs, name="layer")

    def connect(self, layer, inp):
        """The model's output from its input."""
        raise NotImplementedError

    def data(self):
        rng = np.random.default_rng(self.seed)
        return rng.normal(size=(self.n_samples, *self.input_shape)).astype(self.input_dtype)

    def build_model(self):
        keras.utils.set_random_seed(self.seed)
        inp = keras.Input(self.input_shape, dtype=self.input_dtype)
        layer = self.make_layer()
        return keras.Model(inp, self.connect(layer, inp)), layer

    def model(self, calibrate=True):
        """The layer in a model, ready to predict; returns model, layer and data."""
        model, layer = self.build_model()
        return model, layer, self.data()

    def check_loaded(self, model, loaded):
        """What a loaded ``.keras`` file must keep besides weights and outputs."""

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
        assert [v.path for v in loaded.weights] == [v.path for v in model.weights]
        for saved, revived in zip(model.weights, loaded.weights):
            assert np.array_equal(ops.convert_to_numpy(revived), ops.convert_to_numpy(saved)), saved.path
        assert_exact(inference(loaded, x), inference(model, x), "loaded vs saved model")
        self.check_loaded(model, loaded)

    def test_weight_counts(self):
        _, layer, _ = self.model(calibrate=False)
        counts = {"weights": layer.weights, "trainable_weights": layer.trainable_weights,
                  "non_trainable_weights": layer.non_trainable_weights}
        declared = {key: getattr(self, f"expected_{key}") for key in counts
                    if getattr(self, f"expected_{key}") is not None}
        if not declared:
            pytest.skip(f"{type(self).__name__} declares no weight counts")
        got = {key: len(counts[key]) for key in declared}
        assert got == declared, {key: [v.path for v in counts[key]] for key in declared}

    def test_symbolic_and_eager_output_shapes(self):
        model, layer, x = self.model(calibrate=False)
        symbolic = tuple(layer.output.shape)
        batch = x[:7]
        eager = keras.Model(model.inputs, layer.output)(ops.convert_to_tensor(batch))
        assert symbolic[0] is None and tuple(eager.shape) == (len(batch), *symbolic[1:])
        try:
            computed = layer.compute_output_shape(shapes(layer.input))
        except NotImplementedError:
            return
        assert tuple(computed) == symbolic


class LayerTest(LayerChecks):
    """H-layers and P-layers."""

    scales = (2.5, 3.0)  # the overflowing data hls4ml is compared on
    io_type = "io_parallel"
    strategies = ("latency", "resource", "distributed_arithmetic")  # those hls4ml offers for the layer
    #: Whether the training step is taken under ``mixed_bfloat16`` too (a bfloat16 head after the layer). Every class
    #: checks that its hgq layers compute in float32 there; that is the base class's doing (``ExactDType``), the same
    #: for every layer, so one class of each kind of layer trains under it.
    mixed_training_step = False

    def connect(self, layer, inp):
        """The model's output from its input: by default ``HQuantize -> layer``."""
        return layer(HQuantize(paq_conf={"init_bw": 4}, name="producer")(inp))

    def model(self, calibrate=True):
        """The layer in a model, heterogeneous widths, calibrated on ``data()``; returns model, layer and data."""
        model, layer = self.build_model()
        rng = np.random.default_rng(self.seed + 1)
        for v in bit_width_variables(model):
            v.assign(rng.integers(1, 5, size=v.shape).astype(v.dtype))
        x = self.data()
        if calibrate:
            hgq.trace_minmax(model, x)
        return model, layer, x

    def check_loaded(self, model, loaded):
        assert hgq.total_bops(loaded) == hgq.total_bops(model)

    def check_training_step(self, model, layer, x):
        # a P-layer has no widths of its own: its gradient must reach the producer's
        watched = bit_width_variables(layer) or bit_width_variables(model)
        assert watched, "no trainable bit widths in the model"
        before = [np.array(v) for v in watched]
        y = np.random.default_rng(self.seed + 2).normal(size=(len(x), *model.output_shape[1:])).astype("float32")
        # one step: on TensorFlow, tracing its graph costs more than the step; on JAX, dispatching op by op costs
        # more than compiling
        model.compile(keras.optimizers.Adam(0.1), "mse", run_eagerly=keras.backend.backend() == "tensorflow")
        loss = model.train_on_batch(x[:128], y[:128])
        assert np.all(np.isfinite(loss)), f"loss {loss}"
        moved = [v.path for v, b in zip(watched, before) if not np.array_equal(np.array(v), b)]
        assert moved, f"one training step moved none of {[v.path for v in watched]}"

    def test_training_step_moves_bit_widths(self):
        self.check_training_step(*self.model())

    def test_training_step_under_mixed_bfloat16(self, mixed_bfloat16):
        model, layer, x = self.model(calibrate=self.mixed_training_step)
        # float32, or float64 where a layer needs it (a recurrent layer rounds its states in float64)
        assert [q.name for q in hgq_layers(model) if q.compute_dtype not in EXACT_DTYPES] == []
        if not self.mixed_training_step:
            return
        head = keras.layers.Dense(2, name="plain_head")  # follows the policy
        mixed = keras.Model(model.input, head(keras.layers.Flatten()(model.outputs[0])))
        assert head.compute_dtype == "bfloat16"
        self.check_training_step(mixed, layer, x)

    @pytest.mark.parametrize("aggressive", [True, False], ids=["WRAP", "SAT"])
    def test_proxy_equals_model(self, aggressive):
        model, _, x = self.model()
        proxy = hgq.to_proxy_model(model, aggressive=aggressive)
        assert_exact(proxy_predict(proxy, x), inference(model, x), "proxy vs H-model on in-range data")

    def proxy_case(self):
        """``(model, proxy, x)`` of the hls4ml check: the calibrated H-model, its proxy (WRAP) and the data."""
        model, _, x = self.model()
        return model, hgq.to_proxy_model(model, aggressive=True), x

    @pytest.mark.hls4ml
    @pytest.mark.xdist_group("layer_project")  # the worker that compiles the shared project checks every layer
    def test_hls4ml_bit_exact(self, layer_project, strategy):
        model, proxy, x, part = layer_project(type(self), self.io_type, strategy=strategy,
                                                  project=self.project)
        check_bit_exact(proxy, x, part, model=model, scales=self.scales)


def inference(model, x):
    """``model(x)`` in inference mode as NumPy: one call, no ``predict`` loop (whose tracing or compiling, once per
    model, costs more than these small models' inference; ``check_bit_exact`` compares ``predict``'s outputs)."""
    return ops.convert_to_numpy(model(x, training=False))


def representable(quantizer, x):
    """Where ``x`` lies in the range of the ``FixedPointQuantizer``'s types (rounding aside)."""
    k, b, integers = (a.astype(np.float64) for a in quantizer.kbi())
    i, f = integers - k, b - integers
    return (x >= -k * 2.0**i) & (x <= 2.0**i - 2.0**-f)


class ProxyLayerTest(LayerChecks):
    """The proxy layers that hls4ml reads, in a small float64 proxy that ``connect`` builds."""

    input_dtype = "float64"
    n_samples = 500
    scales = (2.5, 3.0)
    io_type = "io_parallel"
    strategies = ("latency",)

    def proxy_case(self):
        proxy, _, x = self.model()
        return None, proxy, x

    @pytest.mark.hls4ml
    @pytest.mark.xdist_group("layer_project")
    def test_hls4ml_bit_exact(self, layer_project, strategy):
        _, proxy, x, part = layer_project(type(self), self.io_type, strategy=strategy, project=self.project)
        compared = check_bit_exact(proxy, x, part, scales=self.scales)
        first = next(layer for layer in proxy.layers if isinstance(layer, FixedPointQuantizer))
        assert not np.all(representable(first, compared[len(x):])), "the overflow test data did not overflow"
