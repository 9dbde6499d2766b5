"""Profiling: weight/activation distributions against representable ranges, and per-layer cost reports."""
