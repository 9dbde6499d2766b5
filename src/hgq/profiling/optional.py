"""Optional dependencies of the profiling tools, imported on first use with a clear message when missing."""

import importlib


def require(module, purpose):
    """Import ``module`` (e.g. ``"matplotlib"``), or raise ``ImportError`` saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(f"{purpose} needs {module.split('.')[0]}, which is not installed; install it with "
                          "pip install 'hgq-keras[profiling]'") from error
