"""Shared machinery of the H-layers: output quantizer, ``beta``, BOPs loss, input bit widths."""

import weakref

import keras
from keras import ops

from ..quantizer import Quantizer
from ..quantizer import config as qconfig
from ..quantizer import fixed_point as fxp


def producer_of(tensor):
    """The layer that produced a symbolic ``keras.KerasTensor`` (``None`` for an eager tensor).

    Keras records the producing operation on every symbolic tensor as ``_keras_history``; this is the
    one place hgq reads it.
    """
    history = getattr(tensor, "_keras_history", None)
    return None if history is None else history.operation


def through_nested_models(producer):
    """``producer``, or for a nested single-output model the layer that produces its output (followed down)."""
    while isinstance(producer, keras.Model) and len(producer.outputs or ()) == 1:
        producer = producer_of(producer.outputs[0])
    return producer


class TracksProducers:
    """Mixin recording, when the layer is called on symbolic tensors, the layers that produced its inputs.

    Put it before the Keras layer class in the bases.
    """

    def __call__(self, *args, **kwargs):
        inputs = args[0] if args else kwargs.get("inputs")
        producers = [producer_of(t) for t in keras.tree.flatten(inputs)]
        if all(p is not None for p in producers) and producers:
            self._producers = tuple(weakref.ref(p) for p in producers)
        return super().__call__(*args, **kwargs)

    def input_layers(self):
        """The layers that feed this one, in input order, as recorded when it was called on symbolic tensors.

        An input coming out of a nested single-output model is attributed to that model's last layer.
        """
        return [through_nested_models(ref()) for ref in getattr(self, "_producers", ())]

    def quantized_input_layers(self):
        """``input_layers()``, after checking that there are some and that each reports its output's types."""
        layers = self.input_layers()
        if not layers:
            raise ValueError(f"{type(self).__name__} {self.name!r} has not been connected in a functional or "
                             "Sequential model, so the bit widths of its input are unknown")
        for producer in layers:
            if not isinstance(producer, QuantizedOutput):
                raise ValueError(f"{type(self).__name__} {self.name!r} receives an unquantized input from "
                                 f"{type(producer).__name__} {producer.name!r}; put an HQuantize or a Signature "
                                 "before it")
        return layers


class QuantizedOutput:
    """Protocol of hgq layers whose output is quantized: they report its ``(k, i, f)``."""

    def output_kif(self):
        raise NotImplementedError

    def output_bits(self):
        """Total bit width of each output element (override for a cheaper computation)."""
        return fxp.total_bits(*self.output_kif())


class BetaWeight(keras.layers.Layer):
    """Holds a layer's ``beta`` as a non-trainable variable, saved like any sub-layer's weights."""

    def __init__(self, value, **kwargs):
        super().__init__(**kwargs)
        self.value = self.add_weight(name="beta", shape=(), initializer=keras.initializers.Constant(float(value)),
                                     trainable=False)
        self.built = True


class HLayer(TracksProducers, QuantizedOutput, keras.layers.Layer):
    """Base of the H-layers: owns the output quantizer ``paq`` and ``beta``, and adds ``beta * BOPs``
    to the model loss while training.

    Subclasses call ``self.paq`` on their output and implement ``compute_bops`` when they multiply.
    """

    #: Whether the layer multiplies (and so has BOPs).
    multiplies = False

    def __init__(self, *args, beta=0.0, paq_conf=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.paq_conf = qconfig.resolve("paq_conf", paq_conf, self.name)
        self.paq = Quantizer(self.paq_conf, kind="activation", auto_rounding=self._auto_rounding(),
                             name=f"{self.name}_paq")
        self.beta_weight = BetaWeight(beta, name=f"{self.name}_beta")

    def _auto_rounding(self):
        """What ``rnd_strategy="auto"`` means for the output quantizer: floor, unless a bias absorbs rounding."""
        return "floor"

    @property
    def beta(self):
        """Weight of this layer's BOPs in the loss (changeable while training)."""
        return float(ops.convert_to_numpy(self.beta_weight.value))

    @beta.setter
    def beta(self, value):
        self.beta_weight.value.assign(float(value))

    def input_bits(self, shape):
        """Total bit width of each input element, broadcast to ``(1, *shape[1:])``."""
        bits = self.quantized_input_layers()[0].output_bits()
        return ops.broadcast_to(bits, (1, *shape[1:]))

    def output_kif(self):
        return self.paq.kif()

    def output_bits(self):
        return self.paq.bits()

    def compute_bops(self, dtype="float32"):
        """BOPs of this layer as a scalar tensor of ``dtype`` (0 for layers that do not multiply)."""
        return ops.zeros((), dtype=dtype)

    def bops(self):
        """Exact BOPs of this layer as a Python float (computed in float64)."""
        return float(ops.convert_to_numpy(self.compute_bops("float64")))

    def add_bops_loss(self, training, **kwargs):
        """Add ``beta * BOPs`` to the layer's losses while training (``kwargs`` go to ``compute_bops``)."""
        if training and self.multiplies:
            self.add_loss(self.beta_weight.value * self.compute_bops("float32", **kwargs))

    def quantizers(self):
        """This layer's quantizers."""
        return [self.paq]

    def get_config(self):
        cfg = super().get_config()
        cfg.update(beta=self.beta, paq_conf=qconfig.serialize(self.paq_conf))
        return cfg
