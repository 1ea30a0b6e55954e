"""forklint: find fork-unsafe and fork-wasted initialisation in background-job code."""

from __future__ import annotations

__version__ = "0.1.0"

from forklint.config import Config, ConfigError, load_config
from forklint.findings import FileError, Finding, Fix, Prefork, Report, TraceStep

__all__ = [
    "Config",
    "ConfigError",
    "FileError",
    "Finding",
    "Fix",
    "Prefork",
    "Report",
    "TraceStep",
    "__version__",
    "load_config",
]
