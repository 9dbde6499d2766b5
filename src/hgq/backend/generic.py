"""Any backend without a module of its own: one replica, float64 that is float64, no kernel derivatives."""


def min_over_replicas(x):
    return x


def max_over_replicas(x):
    return x


def float64_is_exact():
    return True


def kernel_derivatives(model, loss_fn, X, y, layers, order, training):
    import keras

    raise NotImplementedError(f"kernel derivatives (the 'oracle' and 'saliency' rankings) are not implemented for the "
                              f"{keras.backend.backend()!r} backend; use ranking_metric='l1' or 'l2'")


def conv_input_gradient_by_matmul(channels):
    return False


def inference(model, purpose):
    return lambda x: model(x, training=False)


def evaluate(model, purpose, fn):
    return fn()


def metric_value(metric, y_true, y_pred):
    from keras import ops

    metric.reset_state()
    metric.update_state(y_true, y_pred)
    return float(ops.convert_to_numpy(metric.result()))


def compiled(fn, static_argnames):
    return fn
