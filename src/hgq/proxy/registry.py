"""The one converter registry, shared by ``to_proxy_model`` (H-layers) and ``from_qkeras`` (saved Keras 2 layers).

A converter is ``fn(layer, inputs, ctx) -> outputs``: it builds the proxy of ``layer`` on the proxy tensor(s)
``inputs`` and returns its output(s). ``register(*keys)`` files it under Keras layer classes (a layer finds the
converter of the nearest class along its MRO) or, for a ``SavedLayer``, under Keras 2 class names.
"""

from dataclasses import dataclass

_CONVERTERS = {}


@dataclass(frozen=True)
class SavedLayer:
    """A Keras 2 layer read from a model file: its class name, its config and its weight arrays (``[]`` if none)."""

    class_name: str
    config: dict
    weights: list

    @property
    def name(self):
        return self.config["name"]

    def __str__(self):
        return f"layer {self.name!r} ({self.class_name})"


@dataclass
class Context:
    """Options of one export, read by the converters.

    Args:
        caller: the public function exporting (prefixes error messages).
        aggressive: wrap on overflow (cheapest logic) instead of saturating.
        unary_lut_max_table_size: largest lookup table an ``HActivation`` may become.
    """

    caller: str
    aggressive: bool
    unary_lut_max_table_size: int = 1024

    @property
    def overflow(self):
        """The overflow mode of the quantizers that follow the ``aggressive`` option."""
        return "WRAP" if self.aggressive else "SAT"


def register(*keys):
    """Register the decorated converter under each key: a layer class or a Keras 2 class name."""
    def decorate(fn):
        for key in keys:
            _CONVERTERS[key] = fn
        return fn
    return decorate


def converter_of(layer):
    """The converter registered for ``layer`` (by class name for a ``SavedLayer``, else along its MRO), or ``None``."""
    keys = (layer.class_name,) if isinstance(layer, SavedLayer) else type(layer).__mro__
    return next((_CONVERTERS[key] for key in keys if key in _CONVERTERS), None)


def _unsupported(layer):
    if isinstance(layer, SavedLayer):
        return f"{layer}: layer class {layer.class_name!r} is not supported"
    return (f"layer {layer.name!r} of type {type(layer).__name__} cannot be exported; build the model from hgq "
            "layers (HQuantize first)")


def convert(layer, inputs, ctx):
    """Build the proxy of ``layer`` on ``inputs`` with its converter; ``ValueError`` naming it when there is none."""
    fn = converter_of(layer)
    if fn is None:
        raise ValueError(f"{ctx.caller}: {_unsupported(layer)}")
    return fn(layer, inputs, ctx)
