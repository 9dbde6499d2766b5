"""The optimization loop (hls4ml's ``optimize_model``, Keras 3): prune or share weight groups step by step,
keeping the validation metric within ``rtol`` of the baseline."""

import logging
import time
from dataclasses import dataclass

import keras
import numpy as np
from keras import ops

from ... import graph
from ...specs import PruningRule, require_specs
from ..attributes import hgq_bit_attributes, kernel_of
from ..config import SUPPORTED_STRUCTURES
from ..objectives import ObjectiveEstimator
from ..scheduler import OptimizationScheduler
from . import utils
from .builder import build_optimizable_model, fresh, remove_custom_regularizers, require_tuner
from .config import SUPPORTED_METRICS, TMP_DIRECTORY
from .masking import compute_masks
from .reduction import check_rebuildable, reduce_model, reducible_layers
from .widths import hold_widths, release_widths

log = logging.getLogger(__name__)

default_regularization_range = np.logspace(-6, -2, num=16).tolist()


@dataclass
class Step:
    """One sparsity step: the target, what was reached (fraction of zero weights; fraction of the objective's
    resources kept), the validation metric after fine-tuning, and whether it was accepted."""

    target: float
    sparsity: float
    resources: float
    metric: float
    accepted: bool
    seconds: float

    def __str__(self):
        return (f"target {self.target:.1%}: zero weights {self.sparsity:.1%}, resources kept {self.resources:.1%}, "
                f"metric {self.metric:.4g} -> {'accepted' if self.accepted else 'rejected'} ({self.seconds:.1f} s)")


class OptimizationHistory:
    """The steps of one optimization (``model.optimization_history`` of the returned model)."""

    def __init__(self, baseline):
        self.baseline, self.steps = baseline, []

    def __iter__(self):
        return iter(self.steps)

    def __len__(self):
        return len(self.steps)

    def __getitem__(self, i):
        return self.steps[i]


class MaskConstraint(keras.constraints.Constraint):
    """Keeps a kernel at ``w · mask + offset`` after every optimizer step (then applies the user's constraint)."""

    def __init__(self, mask, offset, inner=None):
        self.mask, self.offset, self.inner = mask, offset, inner

    def __call__(self, w):
        w = self.inner(w) if self.inner is not None else w
        return w * ops.cast(self.mask, w.dtype) + ops.cast(self.offset, w.dtype)


def _check(model, model_attributes, objective, scheduler, epochs, rewinding_epochs, ranking_metric, rtol, tuner,
           hold_bit_widths):
    """Refuse bad arguments up front; returns the objective's class."""
    require_specs(model, "optimize_model", PruningRule)  # subclassed models, layer types it cannot prune, by name
    objective = objective if isinstance(objective, type) else type(objective)
    if not issubclass(objective, ObjectiveEstimator):
        raise TypeError("objective must be a subclass of hgq.optimization.objectives.ObjectiveEstimator (e.g. "
                        f"ParameterEstimator), got {objective.__name__}")
    if objective.shrinks_model:
        check_rebuildable(model, f"optimize_model ({objective.__name__})")
    if not isinstance(scheduler, OptimizationScheduler):
        raise TypeError("scheduler must be an instance of hgq.optimization.scheduler.OptimizationScheduler (e.g. "
                        f"PolynomialScheduler(5, final_sparsity=0.5)), got {scheduler!r}")
    if not 0 < rtol <= 1:
        raise ValueError(f"rtol must be in (0, 1] (the fraction of the baseline metric to keep), got {rtol!r}")
    if epochs <= rewinding_epochs:
        raise ValueError(f"epochs ({epochs}) must exceed rewinding_epochs ({rewinding_epochs})")
    if ranking_metric not in SUPPORTED_METRICS:
        raise ValueError(f"unknown ranking_metric {ranking_metric!r}; supported: {SUPPORTED_METRICS}")
    missing = [path for path in utils.model_kernels(model) if path not in model_attributes]
    if missing:
        raise ValueError(f"model_attributes has no entry for {missing}: build them from this model")
    require_tuner(tuner)
    if hold_bit_widths and not objective.depends_on_bit_widths:
        raise ValueError(f"hold_bit_widths=True holds the bit widths that an objective's resources depend on; those of "
                         f"{objective.__name__} do not (BOPsEstimator's do)")
    return objective


def _mark_optimizable(model, model_attributes, objective):
    """Ask the objective which layers with a kernel to optimize, in a structure that the layer's spec supports
    (``args['pruning_structures']``); structured pruning only where channels can be removed."""
    reducible = reducible_layers(model)
    for path, layer in graph.flat_layers(model):
        attrs = model_attributes.get(path)
        if attrs is None:
            continue
        attrs.optimizable, attrs.optimization_attributes = False, None
        if kernel_of(layer) is None:
            continue
        ok, opt = objective.is_layer_optimizable(attrs)
        if opt is not None and opt.structure_type.value not in attrs.args.get("pruning_structures", ()):
            log.warning("%s: layer %r (%s) does not support %s structures: not optimized", objective.__name__, path,
                        type(layer).__name__, opt.structure_type.value)
            ok, opt = False, None
        attrs.optimizable, attrs.optimization_attributes = ok, opt
        if opt is not None and opt.structure_type == SUPPORTED_STRUCTURES.STRUCTURED and opt.pruning \
                and path not in reducible:
            opt.pruning = False  # its outputs are labels or cannot be removed
            attrs.optimizable = bool(opt.weight_sharing)


def _apply_masks(model, masks, offsets):
    for path, view in utils.model_kernels(model).items():
        if path in masks:
            kernel = view.variable
            inner = kernel.constraint.inner if isinstance(kernel.constraint, MaskConstraint) else kernel.constraint
            kernel.constraint = MaskConstraint(masks[path], offsets[path], inner)
            kernel.assign(kernel.constraint(kernel))


def _remove_masks(model):
    for view in utils.model_kernels(model).values():
        if isinstance(view.variable.constraint, MaskConstraint):
            view.variable.constraint = view.variable.constraint.inner


def _refresh_bit_widths(model, model_attributes):
    """Re-read the bit widths (and per-weight BOPs) of H-layers whose attributes hold them: widths change while
    training, and a pruned weight then costs nothing."""
    for path, layer in graph.flat_layers(model):
        attrs = model_attributes.get(path)
        if attrs is not None and "weight_bops" in attrs.args:
            attrs.update_args(hgq_bit_attributes(layer))


def optimize_model(model, model_attributes, objective, scheduler, X_train, y_train, X_val, y_val, batch_size, epochs,
                   optimizer, loss_fn, validation_metric, increasing, rtol, callbacks=None, ranking_metric="l1",
                   local=False, verbose=False, rewinding_epochs=1, cutoff_bad_trials=3, directory=TMP_DIRECTORY,
                   tuner="Bayesian", knapsack_solver="CBC_MIP", regularization_range=default_regularization_range,
                   hold_bit_widths=False):
    """Prune (or share) weight groups of ``model`` step by step, as hls4ml's ``optimize_model``.

    Each step ranks the groups (``ranking_metric``: ``l1``, ``l2``, ``oracle``, ``saliency``), keeps the most
    valuable ones within ``(1 - sparsity)`` of the objective's resources (a knapsack, ``knapsack_solver``), trains
    ``epochs - rewinding_epochs`` epochs with the others frozen (a kernel constraint), and accepts the step when the
    validation metric is ``>= rtol · baseline`` (``<= baseline / rtol`` when not ``increasing``); then
    ``rewinding_epochs`` epochs without masks. With ``hold_bit_widths=True`` (objectives whose resources are bit
    widths, ``BOPsEstimator``) the widths of the kept weights are held at their mask-time values while a step is
    fine-tuned (``hgq.optimization.keras.widths``): the measured BOPs then stay closer to the target, but steps lose
    more accuracy and are rejected more often (docs/optimization.md). It stops at the scheduler's
    last sparsity or after ``cutoff_bad_trials`` rejected steps in a row. ``tuner``: ``"Bayesian"``/``"Hyperband"``
    search a regularization per layer (keras-tuner, extra ``hgq-keras[optimization]``), ``"Manual"`` uses
    ``regularization_range[0]``, ``None`` none; keras-tuner works in ``directory``/tuning, and ``directory`` must be
    new, empty or hold only what hgq wrote (``hgq.outputs``; refused otherwise). The input model is not modified.

    The layers optimized are those whose spec gives them a kernel (``hgq.cost.kernel_views``), nested models
    included (``model_attributes`` keyed by ``hgq.graph.flat_layers`` paths), in a structure that the spec
    supports (``pruning_structures``). Refused by name, up front: subclassed models (no graph of layers; build them
    as functional models), layer types without a spec (``hgq.specs.UnsupportedLayerError``), and nested models when
    the objective removes neurons (``objective.shrinks_model``).

    Returns:
        A new model with the best accepted weights (masked weights exactly zero) and no pruning regularizers;
        physically smaller when ``objective.shrinks_model`` (``GPUFLOPEstimator``). Its ``optimization_history``
        (``OptimizationHistory``) lists the steps.
    """
    objective = _check(model, model_attributes, objective, scheduler, epochs, rewinding_epochs, ranking_metric,
                       rtol, tuner, hold_bit_widths)
    loss_fn = keras.losses.get(loss_fn) if isinstance(loss_fn, str) else loss_fn
    fit = dict(batch_size=batch_size, callbacks=callbacks, verbose=0)
    _mark_optimizable(model, model_attributes, objective)
    work = build_optimizable_model(model, model_attributes, optimizer, loss_fn, validation_metric, increasing,
                                   (X_train, y_train), (X_val, y_val), batch_size, max(1, epochs // 2),
                                   verbose=verbose, directory=directory, tuner=tuner,
                                   regularization_range=regularization_range)

    def evaluate():
        return float(work.evaluate(X_val, y_val, batch_size=batch_size, verbose=0, return_dict=False)[-1])

    def compile_work():  # a fresh optimizer: no momentum carried over from another step
        work.compile(fresh(optimizer), loss_fn, metrics=[fresh(validation_metric)])

    baseline = evaluate()
    history = OptimizationHistory(baseline)
    if verbose:
        print(f"baseline validation metric: {baseline:.4g}")
    threshold = rtol * baseline if increasing else baseline / rtol
    best, bad_trials, going, target = work.get_weights(), 0, True, scheduler.get_sparsity()
    totals = None  # the first step's resources: every budget is relative to them
    while going:
        start = time.time()
        grads = utils.get_model_gradients(work, loss_fn, X_train, y_train) if ranking_metric == "oracle" else None
        hess = utils.get_model_hessians(work, loss_fn, X_train, y_train) if ranking_metric == "saliency" else None
        release_widths(work)
        _refresh_bit_widths(work, model_attributes)
        masks, offsets, kept, totals = compute_masks(work, model_attributes, target, objective, ranking_metric,
                                                     local, grads, hess, knapsack_solver, totals)
        _apply_masks(work, masks, offsets)
        if hold_bit_widths:
            hold_widths(work, masks)
        compile_work()
        work.fit(X_train, y_train, epochs=epochs - rewinding_epochs, **fit)
        metric = evaluate()
        accepted = metric >= threshold if increasing else metric <= threshold
        step = Step(float(target), utils.get_model_sparsity(work)[0], kept, metric, bool(accepted), 0.0)
        if accepted:
            bad_trials, best = 0, work.get_weights()
            going, target = scheduler.update_step()
        else:
            bad_trials += 1
            going, target = scheduler.repair_step()
        step.seconds = time.time() - start
        history.steps.append(step)
        if verbose:
            print(step)
        if bad_trials >= cutoff_bad_trials:
            break
        if going and rewinding_epochs > 0:  # weights may grow back
            release_widths(work)
            _remove_masks(work)
            compile_work()
            work.fit(X_train, y_train, epochs=rewinding_epochs, **fit)
    work.set_weights(best)
    release_widths(work)
    _remove_masks(work)
    remove_custom_regularizers(work)
    if objective.shrinks_model:
        work = reduce_model(work)
        compile_work()
        work.fit(X_train, y_train, epochs=int(1.5 * epochs), **fit)
    compile_work()
    if verbose:
        print(f"optimized model validation metric: {evaluate():.4g}")
    work.optimization_history = history
    return work
