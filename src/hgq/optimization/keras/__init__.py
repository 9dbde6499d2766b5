"""The Keras 3 side of the optimization API, at hls4ml's paths (``hls4ml.optimization.dsp_aware_pruning.keras``):
the loop (``loop``: ``optimize_model``), the optimizable model it trains (``builder``, ``regularizers``), the masks
(``masking``), held bit widths (``widths``), structured reduction (``reduction``) and helpers (``utils``)."""

from .loop import default_regularization_range, optimize_model

__all__ = ["default_regularization_range", "optimize_model"]
