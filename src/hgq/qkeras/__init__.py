"""Import QKeras (Keras 2) models into hgq's bit-exact proxy format, without QKeras or Keras 2."""

from .proxy import from_qkeras

__all__ = ["from_qkeras"]
