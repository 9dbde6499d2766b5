"""Masks of the optimizable kernels: rank weight groups, keep the most valuable ones within the resource budget
(a knapsack), and give each pruned group a zero (or, for weight sharing, its mean as an offset).

Every structure is described by a *group map*: an integer array shaped like the kernel giving each weight's group.
Layers are keyed by path (``hgq.graph.flat_layers``), so kernels of nested models are masked too.
"""

import keras
import numpy as np

from ..config import SUPPORTED_STRUCTURES
from ..knapsack import solve_knapsack
from .config import SUPPORTED_METRICS
from .utils import model_kernels


def group_map(kernel_shape, opt):
    """Group index of each weight of a kernel for the structure in ``opt`` (``OptimizationAttributes``)."""
    size = int(np.prod(kernel_shape))
    st = opt.structure_type
    if st == SUPPORTED_STRUCTURES.UNSTRUCTURED:
        return np.arange(size).reshape(kernel_shape)
    if st == SUPPORTED_STRUCTURES.STRUCTURED:
        return np.broadcast_to(np.arange(kernel_shape[-1]), kernel_shape)
    if st == SUPPORTED_STRUCTURES.PATTERN:
        offset, consecutive = int(opt.pattern_offset), int(opt.consecutive_patterns)
        if size % offset:
            raise ValueError(f"pattern_offset {offset} must divide the kernel size {size}")
        if offset % consecutive:
            raise ValueError(f"consecutive_patterns {consecutive} must divide pattern_offset {offset}")
        per_group = size // offset * consecutive
        transposed = (kernel_shape[-1], *kernel_shape[:-1])  # hls4ml's Resource strategy order
        return np.moveaxis((np.arange(size) // per_group).reshape(transposed), 0, -1)
    if st == SUPPORTED_STRUCTURES.BLOCK:
        if len(kernel_shape) != 2:
            raise ValueError(f"block structures need a rank-2 kernel, got shape {tuple(kernel_shape)}")
        b0, b1 = opt.block_shape
        if kernel_shape[0] % b0 or kernel_shape[1] % b1:
            raise ValueError(f"block shape {opt.block_shape} must divide the kernel shape {tuple(kernel_shape)}")
        rows, cols = np.indices(kernel_shape)
        return rows // b0 * (kernel_shape[1] // b1) + cols // b1
    raise ValueError(f"unknown structure type {st!r}")


def _ranking(w, name, metric, gradients, hessians):
    """The per-weight quantity whose group norm ranks the groups."""
    if metric == "oracle":
        return np.abs(w * gradients[name])
    if metric == "saliency":
        return np.abs(np.square(w) * hessians[name])
    return w


class _LayerGroups:
    """The weight groups of one layer: value (lower = pruned first), resources, and whether a pruned group is
    shared (set to its mean) rather than zeroed."""

    def __init__(self, path, kernel, attrs, objective, metric, gradients, hessians, normalize):
        self.path = path
        w = keras.ops.convert_to_numpy(kernel)
        opt = attrs.optimization_attributes
        self.kernel, self.map = w, np.asarray(group_map(w.shape, opt))
        flat, n = self.map.ravel(), int(self.map.max()) + 1
        value = _ranking(w, path, metric, gradients, hessians).ravel()
        count = np.bincount(flat, minlength=n)
        if metric == "l2":
            norm = np.sqrt(np.bincount(flat, np.square(value), n))
        else:
            norm = np.bincount(flat, np.abs(value), n)
        if normalize and norm.max() > 0:
            norm = norm / norm.max()
        self.mean = np.bincount(flat, w.ravel(), n) / count
        var = np.bincount(flat, np.square(w.ravel()), n) / count - np.square(self.mean)
        norm = norm if opt.pruning else np.full(n, np.inf)
        var = np.maximum(var, 0) if opt.weight_sharing else np.full(n, np.inf)
        self.sharing = var < norm
        self.values = np.minimum(norm, var)
        self.values[~np.isfinite(self.values)] = np.finfo(np.float64).max / (10 * n)
        # groups may differ in cost (BOPsEstimator); the base class repeats layer_savings for every group
        self.resources = np.asarray(objective.group_resources(attrs, n), np.float64).reshape(-1, n)
        self.total = np.atleast_1d(np.asarray(objective.layer_resources(attrs), np.float64))
        if objective.values_scale_with_resources:  # a free group keeps its own value
            self.values = self.values * np.maximum(self.resources.sum(axis=0), 1.0)

    def mask_and_offset(self, keep):
        """``(mask, offset)`` for the kept groups ``keep`` (a boolean array over groups). A free group that is
        already all zero stays pruned (it could otherwise grow back at a cost)."""
        zero = np.bincount(self.map.ravel(), (self.kernel != 0).ravel(), len(keep)) == 0
        keep = keep & ~(zero & (self.resources.sum(axis=0) == 0))
        mask = keep[self.map].astype(self.kernel.dtype)
        shared = (~keep & self.sharing)[self.map]
        offset = np.where(shared, self.mean[self.map], 0).astype(self.kernel.dtype)
        return mask, offset


def _select(groups, sparsity, knapsack_solver, totals):
    """Solve one knapsack over ``groups``; returns one boolean keep-array per layer."""
    values = np.concatenate([g.values for g in groups])
    weights = np.rint(np.concatenate([g.resources for g in groups], axis=1)).astype(np.int64)
    total = np.sum([totals.get(g.path, g.total) for g in groups], axis=0)
    capacity = np.floor((1 - sparsity) * total).astype(np.int64)
    _, selected = solve_knapsack(values, weights, capacity, implementation=knapsack_solver)
    keep = np.zeros(len(values), bool)
    keep[np.asarray(list(selected), dtype=np.int64)] = True
    return np.split(keep, np.cumsum([len(g.values) for g in groups])[:-1])


def get_model_masks(keras_model, model_attributes, sparsity, objective, metric="l1", local=False, gradients=None,
                    hessians=None, knapsack_solver="CBC_MIP"):
    """Binary masks (1: the weight trains on; 0: frozen at its offset) and offsets of every optimizable layer, such
    that the kept groups use at most ``(1 - sparsity)`` of the resources (per layer when ``local``). The knapsack
    weight of a group is ``objective.group_resources(attrs, n_groups)`` (groups of one layer may cost differently,
    e.g. ``BOPsEstimator``; the base class repeats ``layer_savings``).

    Returns:
        ``(masks, offsets)``: dicts keyed by layer path, shaped like the kernels.
    """
    masks, offsets, _, _ = compute_masks(keras_model, model_attributes, sparsity, objective, metric, local, gradients,
                                      hessians, knapsack_solver)
    return masks, offsets


def compute_masks(keras_model, model_attributes, sparsity, objective, metric="l1", local=False, gradients=None,
                  hessians=None, knapsack_solver="CBC_MIP", totals=None):
    """``get_model_masks``, plus the fraction of the resources that the kept groups use, and each layer's
    resources. ``totals``: ``{layer path: resources}`` the budget is relative to (default: the objective's
    ``layer_resources`` now)."""
    totals = totals or {}
    if metric not in SUPPORTED_METRICS:
        raise ValueError(f"unknown ranking metric {metric!r}; supported: {SUPPORTED_METRICS}")
    if metric == "oracle" and gradients is None:
        raise ValueError("the 'oracle' ranking needs the gradients of the loss w.r.t. the kernels")
    if metric == "saliency" and hessians is None:
        raise ValueError("the 'saliency' ranking needs the second derivatives of the loss w.r.t. the kernels")
    groups = []
    for path, view in model_kernels(keras_model).items():
        attrs = model_attributes.get(path)
        opt = getattr(attrs, "optimization_attributes", None)
        if attrs is not None and attrs.optimizable and opt and (opt.pruning or opt.weight_sharing):
            groups.append(_LayerGroups(path, view.variable, attrs, objective, metric, gradients, hessians,
                                       normalize=not local))
    if not groups:
        return {}, {}, 1.0, {}
    keeps = [k for g in groups for k in _select([g], sparsity, knapsack_solver, totals)] if local else \
        _select(groups, sparsity, knapsack_solver, totals)
    masks, offsets, kept = {}, {}, 0.0
    for g, keep in zip(groups, keeps):
        masks[g.path], offsets[g.path] = g.mask_and_offset(keep)
        kept = kept + g.resources[:, keep].sum(axis=1)
    layer_totals = {g.path: totals.get(g.path, g.total) for g in groups}
    total = np.sum(list(layer_totals.values()), axis=0)
    return masks, offsets, float(np.max(np.where(total > 0, kept / np.maximum(total, 1e-300), 0))), layer_totals
