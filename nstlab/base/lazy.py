"""Names a package loads on first use, so that importing it starts no TensorFlow.

A package lists its submodules and the names it re-exports (name -> submodule), and gets
the module-level ``__getattr__`` and ``__dir__`` that import them when first touched
(PEP 562)::

    __getattr__, __dir__ = lazy_names(__name__, globals(), submodules={"viz"},
                                      exports={"show_images": "viz"})
"""

from __future__ import annotations

import importlib


def lazy_names(package: str, namespace: dict, *, submodules=(), exports=None):
    """The ``__getattr__`` and ``__dir__`` of ``package`` (its ``globals()`` is ``namespace``).

    ``package.X`` for X in ``submodules`` imports ``package.X``; ``package.name`` for a name
    in ``exports`` (a mapping name -> dotted submodule, relative to ``package``) imports that
    submodule and returns its attribute, cached in ``namespace`` afterwards.
    """
    submodules = frozenset(submodules)
    exports = dict(exports or {})

    def __getattr__(name):
        if name in submodules:
            return importlib.import_module(f"{package}.{name}")
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value
        return value

    def __dir__():
        return sorted(set(namespace) | set(exports) | submodules)

    return __getattr__, __dir__
