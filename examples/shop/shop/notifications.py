"""E-mail notifications rendered from the localised templates shipped in shop/templates."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

TEMPLATES = Path(__file__).resolve().parent / "templates" / "emails.yaml"


@functools.lru_cache(maxsize=1)
def email_templates() -> dict[str, dict[str, dict[str, str]]]:
    """Every template by name and locale, parsed once per process."""
    import yaml  # only the mailer needs PyYAML, so the web app does not import it

    with TEMPLATES.open(encoding="utf-8") as stream:
        return yaml.safe_load(stream)


def render(name: str, locale: str, context: dict[str, Any]) -> dict[str, str]:
    """The subject and body of template `name` in `locale` (falling back to English)."""
    variants = email_templates()[name]
    template = variants.get(locale) or variants["en"]
    return {part: text.format_map(context) for part, text in template.items()}
