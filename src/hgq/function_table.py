"""``FunctionTable``: functions filed under keys by a decorator, the one shape of hgq's tables of handlers (hls4ml's
Keras-3 handlers of the proxy's layers, the QKeras converters by Keras 2 class name)."""


class FunctionTable(dict):
    """``{key: function}``, filled by the decorator ``file(*keys)`` where each function is defined."""

    def file(self, *keys):
        """Decorator: file the decorated function under each of ``keys`` (a later filing of a key replaces it)."""

        def decorate(fn):
            for key in keys:
                self[key] = fn
            return fn

        return decorate
