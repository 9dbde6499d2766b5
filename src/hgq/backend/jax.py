"""JAX: replica reductions of the min/max records, float64 only in 64-bit mode, kernel derivatives with ``jax.grad``,
and the input gradient of few-channel convolutions as a matmul (``conv_input_gradient_by_matmul``).

Replica reductions. Keras' JAX distribution (``keras.distribution.DataParallel`` and ``ModelParallel``, on one
process or several) is GSPMD: the train step is one ``jax.jit`` over globally sharded arrays, with the inputs split
along the batch axis and the records replicated. A reduction over the batch axis is then global: XLA's partitioner
adds the cross-device all-reduce (the compiled step holds an all-reduce of ``minimum`` and one of ``maximum`` over
the quantizers' batch minima and maxima), so ``min_over_replicas`` / ``max_over_replicas`` have nothing left to do
and return their input. Only inside ``jax.shard_map`` or ``jax.pmap`` over the batch axis (a custom training loop)
does each device see its own shard, under a bound axis name; there they take ``lax.pmin`` / ``lax.pmax`` over it.
``tests/test_distributed.py`` checks both: two devices, two processes and a ``shard_map`` step record what one
device records.
"""

import weakref


def _bound_batch_axis():
    """The name of the data-parallel batch axis (Keras' distribution's, ``"batch"`` without one) when it is bound
    here, i.e. inside ``shard_map`` or ``pmap`` over it; ``None`` otherwise (plain or GSPMD-sharded ``jit``)."""
    import jax
    import keras

    name = getattr(keras.distribution.distribution(), "batch_dim_name", None) or "batch"
    try:
        jax.lax.axis_size(name)
    except NameError:  # not bound
        return None
    return name


def min_over_replicas(x):
    """Element-wise minimum of ``x`` over the shards of a ``shard_map``/``pmap`` batch axis (``x`` elsewhere)."""
    import jax

    axis = _bound_batch_axis()
    return x if axis is None else jax.lax.pmin(x, axis)


def max_over_replicas(x):
    """Element-wise maximum of ``x`` over the shards of a ``shard_map``/``pmap`` batch axis (``x`` elsewhere)."""
    import jax

    axis = _bound_batch_axis()
    return x if axis is None else jax.lax.pmax(x, axis)


def float64_is_exact():
    import jax

    return bool(jax.config.jax_enable_x64)


def kernel_derivatives(model, loss_fn, X, y, layers, order, training):
    import jax
    import numpy as np

    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]
    ids = [id(v) for v in model.trainable_variables]
    where = [ids.index(id(layer.kernel)) for layer in layers]

    def loss_of(kernels):
        values = list(trainable)
        for i, k in zip(where, kernels):
            values[i] = k
        out, _ = model.stateless_call(values, non_trainable, X, training=training)
        return loss_fn(y, out)

    kernels = [trainable[i] for i in where]
    if order == 1:
        return [np.asarray(g) for g in jax.grad(loss_of)(kernels)]
    summed = jax.grad(lambda ks: sum(g.sum() for g in jax.grad(loss_of)(ks)))
    return [np.asarray(g) for g in summed(kernels)]


#: Below this many input channels an H-convolution's input gradient is a matmul and col2im: XLA's CPU transposed
#: convolution into 1-4 channels took 2.4-3.6 ms on a 64x32x32 batch against 0.4-1.6 ms (16 filters, 3x3), and
#: the benchmark CNN trains about 5 % faster per epoch (1.15x -> 1.09x float; docs/benchmarks.md).
FEW_INPUT_CHANNELS = 8


def conv_input_gradient_by_matmul(channels):
    return channels < FEW_INPUT_CHANNELS


#: model -> {purpose: (ids of the variables it was compiled for, compiled function)}: compiled once per model and
#: purpose, like Keras' predict function; dropped with the model.
_COMPILED = weakref.WeakKeyDictionary()


def _compiled(model, purpose, variables, compile_):
    ids = tuple(id(v) for v in variables)
    per_model = _COMPILED.setdefault(model, {})
    if purpose not in per_model or per_model[purpose][0] != ids:
        per_model[purpose] = ids, compile_()
    return per_model[purpose][1]


def inference(model, purpose):
    import jax

    def compile_():
        owner = weakref.ref(model)  # the compiled function must not keep the model alive
        changed = []  # the indices of the non-trainable variables the pass assigns, found when it is traced

        def run(trainable, non_trainable, x):
            y, after = owner().stateless_call(trainable, non_trainable, x, training=False)
            # a variable the pass does not assign comes back as the very value it was given
            changed[:] = [i for i, (old, new) in enumerate(zip(non_trainable, after)) if new is not old]
            return y, [after[i] for i in changed]
        return jax.jit(run), changed

    run, assigned = _compiled(model, purpose, model.variables, compile_)

    def call(x):
        variables = model.non_trainable_variables
        y, values = run([v.value for v in model.trainable_variables], [v.value for v in variables], x)
        for i, value in zip(assigned, values):  # only what changed: an exported pass assigns nothing
            variables[i].assign(value)
        return y

    return call


def evaluate(model, purpose, fn):
    import jax
    import keras

    variables = list(model.variables)

    def compile_():
        def run(values):
            with keras.StatelessScope(state_mapping=list(zip(variables, values))):
                return fn()
        return jax.jit(run)

    return _compiled(model, purpose, variables, compile_)([v.value for v in variables])


#: metric -> (its reset state, the compiled update and result); dropped with the metric.
_METRICS = weakref.WeakKeyDictionary()


def metric_value(metric, y_true, y_pred):
    import jax

    if metric not in _METRICS:
        owner = weakref.ref(metric)  # the compiled function must not keep the metric alive
        _METRICS[metric] = metric.stateless_reset_state(), jax.jit(
            lambda values, t, p: owner().stateless_result(owner().stateless_update_state(values, t, p)))
    reset, run = _METRICS[metric]
    return float(run(reset, y_true, y_pred))


#: function -> its ``jax.jit``; the functions are module-level ones (``hgq.backend.compiled``).
_JITTED = {}


def compiled(fn, static_argnames):
    import jax
    import keras

    if fn not in _JITTED:
        jitted = jax.jit(fn, static_argnames=static_argnames)

        def call(*args, **kwargs):  # a Keras variable is passed as its value
            args = [a.value if isinstance(a, keras.Variable) else a for a in args]
            kwargs = {k: v.value if isinstance(v, keras.Variable) else v for k, v in kwargs.items()}
            return jitted(*args, **kwargs)
        _JITTED[fn] = call
    return _JITTED[fn]
