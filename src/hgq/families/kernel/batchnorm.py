"""Batch normalization with quantized weights: fused into a kernel layer (``HDenseBatchNorm``, ``HConv1DBatchNorm``,
``HConv2DBatchNorm``, ``HEinsumDenseBatchNorm``), and the state and arithmetic that ``HBatchNormalization`` shares.

A fused layer computes ``BN(linear(x, W) + b)`` but quantizes the *fused* weights

    s  = gamma / sqrt(var + epsilon)          (per element of the bias's shape)
    W' = W * s                                (along the kernel axes that carry the bias's output axes)
    b' = (b - mean) * s + beta

so the exported layer is a plain Dense/Conv/EinsumDense (with a bias) followed by the output quantizer: the batch
normalization costs nothing in firmware. See ``docs/batchnorm.md``.
"""

import keras
from keras import ops

from .conv import HConv1D, HConv2D
from .dense import HDense
from .einsum_dense import HEinsumDense


def check_momentum_and_epsilon(owner, momentum, epsilon):
    """``(momentum, epsilon)`` as floats; ``ValueError`` naming ``owner`` when they are out of range."""
    momentum, epsilon = float(momentum), float(epsilon)
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"{owner}: momentum must be in [0, 1), got {momentum!r}")
    if not epsilon > 0.0:
        raise ValueError(f"{owner}: epsilon must be > 0 (it keeps 1/sqrt(var + epsilon) finite), got {epsilon!r}")
    return momentum, epsilon


class NormalizationMixin:
    """The state and arithmetic of a batch normalization: ``bn_gamma`` (with ``scale``), ``bn_beta`` (with
    ``center``), ``moving_mean`` and ``moving_variance``; the host sets ``momentum``, ``epsilon``, ``center`` and
    ``scale``. ``bn_beta``/``bn_gamma`` are so named because ``beta`` is every H-layer's BOPs weight."""

    def _add_normalization_weights(self, shape, gamma_initializer="ones", beta_initializer="zeros",
                                   moving_mean_initializer="zeros", moving_variance_initializer="ones", **options):
        """Create the normalization's variables of ``shape``; ``options``: ``gamma_regularizer``,
        ``beta_constraint``, ... as ``keras.layers.BatchNormalization`` takes them."""
        def trainable(name, initializer, kind):
            return self.add_weight(name=f"bn_{name}", shape=shape, initializer=initializer, trainable=True,
                                   regularizer=options.get(f"{name}_regularizer"),
                                   constraint=options.get(f"{name}_constraint")) if kind else None
        self.bn_gamma = trainable("gamma", gamma_initializer, self.scale)
        self.bn_beta = trainable("beta", beta_initializer, self.center)
        self.moving_mean = self.add_weight(name="moving_mean", shape=shape, initializer=moving_mean_initializer,
                                           trainable=False)
        self.moving_variance = self.add_weight(name="moving_variance", shape=shape,
                                               initializer=moving_variance_initializer, trainable=False)

    def normalization_scale(self, var):
        """``gamma / sqrt(var + epsilon)`` (``gamma = 1`` without ``scale``)."""
        s = ops.rsqrt(var + self.epsilon)
        return s * self.bn_gamma if self.scale else s

    def normalization_offset(self, centered, s):
        """``centered * s + beta`` (``beta = 0`` without ``center``): the offset of ``(z - mean) * s + beta`` for
        ``centered = b - mean``."""
        offset = centered * s
        return offset + self.bn_beta if self.center else offset

    def update_moving_statistics(self, mean, var):
        """``moving = momentum * moving + (1 - momentum) * batch`` (no gradient)."""
        m = self.momentum
        self.moving_mean.assign(self.moving_mean * m + ops.stop_gradient(mean) * (1.0 - m))
        self.moving_variance.assign(self.moving_variance * m + ops.stop_gradient(var) * (1.0 - m))

    def _bn_variables(self):
        return {name: getattr(self, name) for name in ("bn_gamma", "bn_beta", "moving_mean", "moving_variance")
                if getattr(self, name) is not None}


class BatchNormFusionMixin(NormalizationMixin):
    """Batch normalization fused into a ``QuantizedKernelMixin`` layer (HDense, HConv1D, HConv2D, HEinsumDense).

    The statistics have the bias's shape (Dense, Conv: one per output channel; EinsumDense: one per element of the
    output axes named in ``bias_axes``), taken over every other axis of ``linear(x, W) + b``; the scale multiplies
    the kernel along the axes that carry those outputs (``kernel_scale``; Dense, Conv: the last).

    Args (besides the parent's):
        momentum: moving-statistics momentum (as ``keras.layers.BatchNormalization``).
        epsilon: added to the variance.
        center: learn the offset ``bn_beta`` (else it is 0).
        scale: learn the scale ``bn_gamma`` (else it is 1).
        use_bias: whether a raw bias ``b`` is added *before* the normalization. Batch normalization subtracts
            the mean, so ``b`` cancels out (as with Keras Dense + BatchNormalization); ``False`` keeps it at 0
            (a non-trainable zero). Either way the fused layer always has a bias: it carries the shift
            ``beta - mean * s``, which exists even with ``center=False``.
    """

    #: The parent's arguments that give it a bias (the fused layer always needs one, for the normalization's shift).
    bias_kwargs = {"use_bias": True}

    def __init__(self, *args, momentum=0.99, epsilon=1e-3, center=True, scale=True, use_bias=True, **kwargs):
        momentum, epsilon = check_momentum_and_epsilon(type(self).__name__, momentum, epsilon)
        super().__init__(*args, **self.bias_kwargs, **kwargs)
        self.momentum, self.epsilon = momentum, epsilon
        self.center, self.scale = bool(center), bool(scale)
        self.raw_bias = bool(use_bias)

    def build(self, input_shape):
        super().build(input_shape)
        shape = self.bias_shape()
        if not self.raw_bias:
            self.bias.assign(ops.zeros(shape, self.bias.dtype))
            self.bias.trainable = False
        self._add_normalization_weights(shape)

    # -- the fusion -------------------------------------------------------------------------------------------

    def _raw_bias(self):
        return self.bias if self.raw_bias else ops.stop_gradient(self.bias)

    def kernel_scale(self, s):
        """The scale ``s`` (shaped like the bias) shaped to multiply the kernel: for Dense and Conv the bias is the
        kernel's last axis, so ``s`` itself."""
        return s

    def fused_kernel_and_bias(self, mean=None, var=None):
        """The float fused kernel ``W * s`` and bias ``(b - mean) * s + beta`` with ``s = gamma/sqrt(var + eps)``.

        ``mean``/``var`` default to the moving statistics (inference)."""
        mean = self.moving_mean if mean is None else mean
        var = self.moving_variance if var is None else var
        s = self.normalization_scale(var)
        kernel = self.kernel * self.kernel_scale(s)
        return kernel, self.normalization_offset(self._raw_bias() - mean, s)

    def _batch_statistics(self, inputs):
        """Mean and variance of ``linear(x, W) + b`` per element of the bias, over every other axis (the leading
        axes and those along which the bias broadcasts); updates the moving ones."""
        z = self.linear(inputs, self.kernel) + self._raw_bias()
        shape = self.bias_shape()
        lead = len(z.shape) - len(shape)
        axes = list(range(lead)) + [lead + d for d, n in enumerate(shape) if n == 1]
        mean, var = ops.moments(z, axes=axes)
        if tuple(mean.shape) != shape:  # an EinsumDense's bias may keep axes of length 1
            mean, var = ops.reshape(mean, shape), ops.reshape(var, shape)
        self.update_moving_statistics(mean, var)
        return mean, var

    def kernel_and_bias(self, inputs=None, training=None):
        """The fused kernel and bias: with the batch statistics of ``inputs`` while training (which updates the
        moving ones), else with the moving statistics (what is exported and counted in BOPs)."""
        if training and inputs is not None:
            return self.fused_kernel_and_bias(*self._batch_statistics(inputs))
        return self.fused_kernel_and_bias()

    # Keras' Dense saves only its kernel and bias; the generic ``Layer`` mechanism saves every variable of the
    # layer (kernel, bias, then the normalization's, in creation order) by index. Use it for both kinds.
    def save_own_variables(self, store):
        keras.layers.Layer.save_own_variables(self, store)

    def load_own_variables(self, store):
        if "moving_mean" in store.keys():  # hgq 0.1.0 saved the dense layer's statistics by name after "0", "1"
            keys = ["0", "1", *self._bn_variables()]
            store = {str(n): store[key] for n, key in enumerate(keys)}
        keras.layers.Layer.load_own_variables(self, store)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(momentum=self.momentum, epsilon=self.epsilon, center=self.center, scale=self.scale,
                   use_bias=self.raw_bias)
        return cfg


_DOC = """

    Batch normalization is fused into the quantized kernel and bias (``BatchNormFusionMixin``): the layer
    computes ``BN(linear(x, W) + b)`` with ``W' = W * s``, ``b' = (b - mean) * s + bn_beta``,
    ``s = bn_gamma / sqrt(var + epsilon)`` (batch statistics while training, moving ones otherwise) and
    quantizes ``W'`` (``kq``) and ``b'``. It exports as the plain parent layer, always with a bias.
    Extra args: ``momentum=0.99``, ``epsilon=1e-3``, ``center=True``, ``scale=True``; ``use_bias`` only
    says whether a raw (pre-normalization, cancelled-out) bias is learned. See ``docs/batchnorm.md``.
"""


@keras.saving.register_keras_serializable(package="hgq")
class HDenseBatchNorm(BatchNormFusionMixin, HDense):
    __doc__ = (HDense.__doc__ or "") + _DOC


@keras.saving.register_keras_serializable(package="hgq")
class HConv1DBatchNorm(BatchNormFusionMixin, HConv1D):
    __doc__ = (HConv1D.__doc__ or "") + _DOC


@keras.saving.register_keras_serializable(package="hgq")
class HConv2DBatchNorm(BatchNormFusionMixin, HConv2D):
    __doc__ = (HConv2D.__doc__ or "") + _DOC


@keras.saving.register_keras_serializable(package="hgq")
class HEinsumDenseBatchNorm(BatchNormFusionMixin, HEinsumDense):
    """``HEinsumDense`` with a batch normalization fused into its quantized kernel and bias.

    The statistics (``bn_gamma``, ``bn_beta``, ``moving_mean``, ``moving_variance``) have the bias's shape: one per
    element of the output axes named in ``bias_axes``, taken over every other axis of the einsum's output. The scale
    ``s = bn_gamma / sqrt(var + epsilon)`` multiplies the kernel along the kernel axes of those letters, so every
    ``bias_axes`` letter must be a kernel letter. Exported as the plain ``EinsumDense`` of ``HEinsumDense`` with the
    fused weights. See ``docs/batchnorm.md``.

    Args:
        equation: the einsum equation of the input and the kernel, batch axis included (``"abc,cde->abde"``).
        output_shape: the output's shape without the batch axis.
        activation: ``None``/``"linear"`` or ``"relu"``.
        bias_axes: the output letters of the bias and of the statistics (required; kernel letters only).
        momentum: moving-statistics momentum.
        epsilon: added to the variance.
        center: learn the offset ``bn_beta`` (else 0).
        scale: learn the scale ``bn_gamma`` (else 1).
        use_bias: whether a raw bias, cancelled out by the normalization, is learned before it (else a frozen 0).
        **kwargs: any other ``HEinsumDense`` argument (``beta``, ``kq_conf``, ``paq_conf``, ...).

    Example:
        >>> x = HQuantize()(keras.Input((8, 16)))                      # 8 tokens of 16 features
        >>> y = HEinsumDenseBatchNorm("abc,cde->abde", (8, 4, 2), bias_axes="de", beta=1e-5)(x)
    """

    bias_kwargs = {}  # its bias comes from bias_axes

    def __init__(self, equation, output_shape, activation=None, bias_axes=None, momentum=0.99, epsilon=1e-3,
                 center=True, scale=True, use_bias=True, **kwargs):
        owner = f"{type(self).__name__} {kwargs['name']!r}" if kwargs.get("name") else type(self).__name__
        if bias_axes is None:
            raise ValueError(f"{owner}: bias_axes is required: the normalization's statistics are per element of the "
                             "bias, the output letters it names (e.g. bias_axes='d' for 'abc,cd->abd')")
        kernel_letters = equation.split("->")[0].split(",")[1]
        outside = [c for c in bias_axes if c not in kernel_letters]
        if outside:
            raise ValueError(f"{owner}: bias_axes={bias_axes!r} names {', '.join(outside)}, not a letter of the "
                             f"kernel {kernel_letters!r} in {equation!r}: the normalization's scale must multiply "
                             "kernel axes")
        super().__init__(equation=equation, output_shape=output_shape, activation=activation, bias_axes=bias_axes,
                         momentum=momentum, epsilon=epsilon, center=center, scale=scale, use_bias=use_bias, **kwargs)

    def build(self, input_shape):
        super().build(input_shape)
        g = self.geometry(input_shape)
        shape = self.bias_shape()
        aligned = g.out[len(g.out) - len(shape):]  # the output letters the bias's axes broadcast along
        letters = [c for c in aligned if c in self.bias_axes]
        order = [c for c in g.ker if c in letters]
        self._scale_layout = (tuple(g.size[c] for c in letters), tuple(letters.index(c) for c in order),
                              tuple(g.size[c] if c in letters else 1 for c in g.ker))

    def kernel_scale(self, s):
        """The scale (shaped like the bias) along the kernel axes of the ``bias_axes`` letters."""
        squeezed, perm, target = self._scale_layout
        s = ops.reshape(s, squeezed)
        if perm != tuple(range(len(perm))):
            s = ops.transpose(s, perm)
        return ops.reshape(s, target)
