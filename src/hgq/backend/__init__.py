"""The seam between hgq and the Keras backends: the few operations that ``keras.ops`` cannot express the same way
on every backend. Everything else in hgq is written with ``keras.ops`` only.

- ``min_over_replicas`` / ``max_over_replicas``: the element-wise min/max of a tensor over the replicas of a
  data-parallel step (the min/max records of the quantizers must cover every replica's batch).
- ``float64_is_exact()``: whether float64 arithmetic really is float64 (the proxy model relies on it).
- ``kernel_derivatives(...)``: first or second derivatives of a loss w.r.t. kernels (pruning rankings).
- ``import_keras()``: Keras, or an ``ImportError`` naming the extra that installs the missing backend.
- ``conv_input_gradient_by_matmul(channels)``: whether an H-convolution with that many input channels computes
  its input's gradient as a matmul and col2im (``hgq.families.kernel.conv_gradient.conv_input_gradient``) instead
  of the backend's transposed convolution.
- ``inference(model, purpose)``: ``model``'s forward pass in inference mode as a function of its inputs, compiled as a
  whole where the backend would otherwise compile every operation on its own (JAX), with the variables the pass
  assigns (calibration records) written back.
- ``evaluate(model, purpose, fn)``: ``fn()``, a computation on ``model``'s variables, as one compiled program on JAX.
- ``metric_value(metric, y_true, y_pred)``: a Keras metric of one batch of predictions, as one compiled program on
  JAX.
- ``@compiled(*static_argnames)``: a function of tensors, called eagerly, as one compiled program per argument shape
  on JAX (the fixed-point arithmetic of an export, which would otherwise compile each of its operations).

Each backend has its module here (``tensorflow.py``, ``jax.py``, ``torch.py``); a backend without one gets the behaviour of a
single device with exact float64 (``generic.py``).
"""

import functools
import importlib

_MODULES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
# the package whose absence makes ``import keras`` fail -> the backend it belongs to (the extra that installs it)
_BACKEND_OF_PACKAGE = {"tensorflow": "tensorflow", "jax": "jax", "jaxlib": "jax", "torch": "torch"}


def import_keras():
    """``keras``; if the Keras backend chosen (``KERAS_BACKEND``, default TensorFlow) is not installed, an
    ``ImportError`` that names the ``hgq-keras`` extra installing it."""
    try:
        import keras
    except ModuleNotFoundError as error:
        package = (error.name or "").split(".")[0]
        backend = _BACKEND_OF_PACKAGE.get(package)
        if backend is None:
            raise
        raise ImportError(f"Keras' {backend} backend is not installed (no module named {package!r}): "
                          f"pip install 'hgq-keras[{backend}]', or choose an installed backend with "
                          f"KERAS_BACKEND=tensorflow|jax (hgq-keras[tensorflow], hgq-keras[jax])") from None
    return keras


def _impl():
    backend = import_keras().backend.backend()
    return importlib.import_module(f".{_MODULES.get(backend, 'generic')}", __name__)


def min_over_replicas(x):
    """Element-wise minimum of ``x`` over all replicas of the running step (``x`` outside such a step)."""
    return _impl().min_over_replicas(x)


def max_over_replicas(x):
    """Element-wise maximum of ``x`` over all replicas of the running step (``x`` outside such a step)."""
    return _impl().max_over_replicas(x)


def float64_is_exact():
    """Whether the backend computes float64 tensors in float64 (JAX truncates them to float32 unless its 64-bit
    mode is on)."""
    return _impl().float64_is_exact()


def kernel_derivatives(model, loss_fn, X, y, layers, order, training):
    """``d^order loss_fn(y, model(X)) / dw^order`` for the kernel ``w`` of each of ``layers``, as NumPy arrays
    (``order=2``: the gradient of the summed gradient, hls4ml's Hessian approximation)."""
    return _impl().kernel_derivatives(model, loss_fn, X, y, layers, order, training)


def conv_input_gradient_by_matmul(channels):
    """Whether an H-convolution whose input has ``channels`` channels computes the gradient with respect to its
    input as a matmul and col2im rather than with the backend's transposed convolution (same sums). On JAX (XLA on
    CPU) the transposed convolution is slow when it has few output channels, i.e. for a convolution with few input
    channels, such as the first layer of an image model whose input quantizer trains its widths."""
    return _impl().conv_input_gradient_by_matmul(channels)


def inference(model, purpose):
    """``model(x, training=False)`` as a function of ``x``. On JAX one compiled program instead of an XLA compilation
    for each operation of an eager call: compiled once per model and ``purpose`` (like Keras' predict function) and
    per input shape, so Python-level settings read while tracing (a quantizer's ``calibrating``) must be the same at
    every call for one purpose. Variables the pass assigns (min/max records while calibrating) are assigned as in an
    eager call."""
    return _impl().inference(model, purpose)


def evaluate(model, purpose, fn):
    """``fn()``, a computation that reads ``model``'s variables and returns tensors. On JAX one compiled program
    instead of an XLA compilation for each of its operations, compiled once per model and ``purpose`` and run on the
    variables' current values."""
    return _impl().evaluate(model, purpose, fn)


def metric_value(metric, y_true, y_pred):
    """``metric`` (a ``keras.metrics.Metric``) of ``y_pred`` against ``y_true`` alone, as a float (what
    ``reset_state``, ``update_state`` and ``result`` give). On JAX one compiled program per metric instead of an XLA
    dispatch per operation, and the metric's own state is left as it is."""
    return _impl().metric_value(metric, y_true, y_pred)


def compiled(*static_argnames):
    """Decorator: the function (of tensors; the arguments named in ``static_argnames`` are plain Python values) as one
    compiled program per argument shapes, dtypes and static values on JAX, where an eager call compiles each of its
    operations on its own (an export runs the fixed-point arithmetic of every quantizer once, each at its own
    shape). Inside a traced computation (a training step) it is traced as part of it; elsewhere it runs as it is."""
    def decorate(fn):
        @functools.wraps(fn)
        def call(*args, **kwargs):
            return _impl().compiled(fn, static_argnames)(*args, **kwargs)
        return call
    return decorate
