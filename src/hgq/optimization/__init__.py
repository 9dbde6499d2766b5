"""hls4ml's Optimization API (``hls4ml.optimization.dsp_aware_pruning``) for Keras 3: pruning and weight sharing
guided by a resource objective (parameters, GPU FLOPs, Vivado DSPs, or hgq's BOPs).

    from hgq.optimization import optimize_keras_model_for_hls4ml
    from hgq.optimization.objectives.vivado_objectives import VivadoDSPEstimator
    from hgq.optimization.scheduler import PolynomialScheduler

See ``docs/optimization.md``.
"""

from .attributes import get_attributes_from_keras_model, get_attributes_from_keras_model_and_hls4ml_config
from .keras import default_regularization_range, optimize_model

__all__ = ["default_regularization_range", "get_attributes_from_keras_model",
           "get_attributes_from_keras_model_and_hls4ml_config", "optimize_keras_model_for_hls4ml", "optimize_model"]


def optimize_keras_model_for_hls4ml(keras_model, hls_config, objective, scheduler, X_train, y_train, X_val, y_val,
                                    batch_size, epochs, optimizer, loss_fn, validation_metric, increasing, rtol,
                                    callbacks=None, ranking_metric="l1", local=False, verbose=False,
                                    rewinding_epochs=1, cutoff_bad_trials=3, directory="hls4ml-optimization",
                                    tuner="Bayesian", knapsack_solver="CBC_MIP",
                                    regularization_range=default_regularization_range):
    """``optimize_model`` with the layer attributes read from ``keras_model`` and its hls4ml config
    (``hls_config``, e.g. from ``hls4ml.utils.config_from_keras_model(model, granularity='name')``; bad configs
    are refused). Every other argument is ``optimize_model``'s."""
    model_attributes = get_attributes_from_keras_model_and_hls4ml_config(keras_model, hls_config)
    return optimize_model(keras_model, model_attributes, objective, scheduler, X_train, y_train, X_val, y_val,
                          batch_size, epochs, optimizer, loss_fn, validation_metric, increasing, rtol,
                          callbacks=callbacks, ranking_metric=ranking_metric, local=local, verbose=verbose,
                          rewinding_epochs=rewinding_epochs, cutoff_bad_trials=cutoff_bad_trials,
                          directory=directory, tuner=tuner, knapsack_solver=knapsack_solver,
                          regularization_range=regularization_range)
