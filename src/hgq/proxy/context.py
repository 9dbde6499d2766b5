"""The options of one export, which every converter reads (``hgq.specs.LayerSpec.convert``)."""

from dataclasses import dataclass


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
