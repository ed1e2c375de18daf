"""The engines: one interface (base.py), one module per engine, and their registry.

Importing this package is light: the registry is plain data, and an engine's module (with
numba or torch) is imported only when that engine is used.
"""

from .registry import (
    ENGINES,
    EngineSpec,
    check_config,
    choose,
    choose_engine,
    load,
    resolve_device,
)

__all__ = [
    "ENGINES",
    "EngineSpec",
    "check_config",
    "choose",
    "choose_engine",
    "load",
    "resolve_device",
]
