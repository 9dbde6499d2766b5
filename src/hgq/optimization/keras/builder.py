"""The model that the optimization loop trains: a copy of the user's model with group regularizers on its
optimizable kernels, their strengths found by keras-tuner (optional extra ``hgq-keras[optimization]``)."""

import re

import keras

from ...outputs import OutputFolder
from .regularizers import DenseRegularizer, regularizer_for
from .utils import model_kernels

TUNERS = ("Bayesian", "Hyperband", "Manual", None)


def require_tuner(tuner):
    """Refuse an unknown tuner, and a search tuner when keras-tuner (or, on TensorFlow, the tensorboard that
    keras-tuner imports there) is missing; returns ``keras_tuner`` or None."""
    if tuner not in TUNERS:
        raise ValueError(f"unknown tuner {tuner!r}; choose one of {TUNERS}")
    if tuner in (None, "Manual"):
        return None
    try:
        import keras_tuner

        if keras.backend.backend() == "tensorflow":
            import tensorboard  # noqa: F401 (keras-tuner's trials import it on TensorFlow)
    except ImportError as err:
        raise ImportError(f"tuner={tuner!r} needs keras-tuner (and, on TensorFlow, tensorboard; {err.name} is "
                          "missing): pip install 'hgq-keras[optimization]' (or pass tuner=None to skip the "
                          "regularization search)") from err
    return keras_tuner


def fresh(obj):
    """A new, unused copy of an optimizer or metric instance (a string is returned as is)."""
    return obj if isinstance(obj, str) else type(obj).from_config(obj.get_config())


def copy_model(model):
    """A copy of ``model`` with the same weights."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


def add_regularizers(model, attributes, alphas):
    """Put a group regularizer on each optimizable kernel (``alphas``: ``{layer path: strength}``)."""
    for path, view in model_kernels(model).items():
        attrs = attributes.get(path)
        if attrs is not None and attrs.optimizable and path in alphas:
            view.variable.regularizer = regularizer_for(attrs.optimization_attributes, alphas[path], alphas[path])
    return model


def remove_custom_regularizers(model):
    """Remove the group regularizers that ``build_optimizable_model`` added (in place); returns ``model``."""
    for view in model_kernels(model).values():
        if isinstance(view.variable.regularizer, DenseRegularizer):
            view.variable.regularizer = None
    return model


def _optimizable(attributes):
    return [name for name, a in attributes.items() if a.optimizable and a.optimization_attributes is not None]


def build_optimizable_model(model, attributes, optimizer, loss_fn, validation_metric, increasing, train_data,
                            validation_data, batch_size, epochs, verbose=False, directory="hls4ml-optimization",
                            tuner="Bayesian", regularization_range=None):
    """A compiled copy of ``model`` ready for optimization.

    ``tuner=None``: no regularization; ``"Manual"``: every optimizable kernel regularized with
    ``regularization_range[0]``; ``"Bayesian"``/``"Hyperband"``: keras-tuner picks a strength per layer from
    ``regularization_range``, training ``epochs`` epochs per trial. ``train_data``/``validation_data`` are
    ``(x, y)`` tuples.
    """
    kt = require_tuner(tuner)
    names = _optimizable(attributes)
    if kt is None:
        work = copy_model(model)
        if tuner == "Manual":
            add_regularizers(work, attributes, {name: regularization_range[0] for name in names})
        work.compile(fresh(optimizer), loss_fn, metrics=[fresh(validation_metric)])
        return work

    default = regularization_range[len(regularization_range) // 2]

    class HyperOptimizationModel(kt.HyperModel):
        def build(self, hp):
            work = copy_model(model)
            alphas = {name: hp.Choice(f"{name}_alpha", values=regularization_range, default=default) for name in names}
            add_regularizers(work, attributes, alphas)
            work.compile(fresh(optimizer), loss_fn, metrics=[fresh(validation_metric)])
            return work

    name = validation_metric if isinstance(validation_metric, str) else \
        re.sub(r"(?<!^)(?=[A-Z])", "_", type(validation_metric).__name__).lower()
    objective = kt.Objective(f"val_{name}", "max" if increasing else "min")
    # keras-tuner replaces its own project in DIRECTORY/tuning, a folder that only hgq writes
    tuning = OutputFolder(OutputFolder(directory, "optimize_model").target("tuning"), "optimize_model").own_all()
    common = dict(hypermodel=HyperOptimizationModel(), objective=objective, overwrite=True, directory=tuning.path)
    search = kt.BayesianOptimization(max_trials=10, **common) if tuner == "Bayesian" else \
        kt.Hyperband(max_epochs=epochs, factor=3, hyperband_iterations=1, **common)
    search.search(*train_data, epochs=epochs, batch_size=batch_size, validation_data=validation_data,
                  callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience=1)], verbose=int(verbose))
    return search.get_best_models(num_models=1)[0]
