"""Profiling: weight/activation distributions against representable ranges, and per-layer cost reports."""
from .plots import numerical
from .report import CostReport, LayerRecord, profile

__all__ = ["CostReport", "LayerRecord", "numerical", "profile"]
