"""The registry of hls4ml Keras-3 handlers for hgq's own proxy layer classes: a family registers the handler of its
proxy layer where it defines it (``@hls4ml_handler(ProxyLayer)``), and ``hgq.proxy.register_hls4ml_handlers`` hands
every registered one to hls4ml. A handler is ``handler(layer, in_tensors, out_tensors) -> config`` (the dict
hls4ml's ``KerasV3LayerHandler.handle`` returns); it imports hls4ml itself, when called."""

#: ``{proxy layer class: handler}``, in registration order.
HANDLERS = {}


def hls4ml_handler(*classes):
    """Decorator: register the decorated function as hls4ml's Keras-3 handler of ``classes``."""

    def register(handler):
        for cls in classes:
            HANDLERS[cls] = handler
        return handler

    return register


def handler_key(cls):
    """The key under which hls4ml looks up the handler of a layer class."""
    return f"{cls.__module__}.{cls.__name__}"
