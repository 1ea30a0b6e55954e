"""Where the shipped knowledge lives: the `rules/` folder (in the wheel as forklint/_rules)."""

from __future__ import annotations

from pathlib import Path


def rules_dir() -> Path:
    """The catalog and rule docs: packaged copy in a wheel, the repository's `rules/` in a checkout."""
    packaged = Path(__file__).with_name("_rules")
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "rules"
