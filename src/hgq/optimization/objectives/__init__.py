"""Objectives: what pruning minimizes (parameters, FLOPs, DSPs, BRAM, FFs, BOPs), one estimator each, used as a
class: ``optimize_model(..., objective=ParameterEstimator, ...)``. The protocol an objective implements, and how the
optimization loop uses it, are in ``hgq.optimization.objectives.base``.
"""

from .base import ObjectiveEstimator
from .bops import BOPsEstimator
from .gpu_objectives import GPUFLOPEstimator
from .parameters import ParameterEstimator
from .vivado_objectives import VivadoDSPEstimator, VivadoFFEstimator, VivadoMultiObjectiveEstimator

__all__ = ["BOPsEstimator", "GPUFLOPEstimator", "ObjectiveEstimator", "ParameterEstimator", "VivadoDSPEstimator",
           "VivadoFFEstimator", "VivadoMultiObjectiveEstimator"]
