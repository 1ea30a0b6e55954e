"""The callables a verify run counts in horses: the catalog's heavy calls (with the project's own) that can be found at run time."""

from __future__ import annotations

import re

from forklint.catalog import load_catalog
from forklint.config import Config

# "pkg.mod.func", "pkg.mod.Class.method", "pkg.mod.read_*": a module path and attributes, with a
# "*" allowed in the last part only. Entries that start with "*" ("*.create_app") name no module.
_FINDABLE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*\.[\w*]+$")


def heavy_callables(config: Config) -> tuple[str, ...]:
    """Catalog heavy calls as run-time names: "X().method" becomes "X.method" (the method on the class)."""
    names = []
    for name in load_catalog(config).heavy_call.names():
        name = name.replace("().", ".")
        if _FINDABLE.match(name):
            names.append(name)
    return tuple(dict.fromkeys(names))
