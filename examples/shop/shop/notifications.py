"""E-mail notifications rendered with Jinja2 from the localised templates in shop/templates."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml
from jinja2 import DictLoader, Environment, StrictUndefined

TEMPLATES = Path(__file__).resolve().parent / "templates" / "emails.yaml"
PARTS = ("subject", "text", "html")


@functools.lru_cache(maxsize=1)
def email_templates() -> dict[str, dict[str, dict[str, str]]]:
    """Every template's source by name, locale and part, parsed once per process."""
    with TEMPLATES.open(encoding="utf-8") as stream:
        return yaml.safe_load(stream)


@functools.lru_cache(maxsize=1)
def template_environment() -> Environment:
    """The Jinja2 environment over every template, built once per process."""
    sources = {
        f"{name}/{locale}/{part}": text
        for name, locales in email_templates().items()
        for locale, parts in locales.items()
        for part, text in parts.items()
    }
    return Environment(
        loader=DictLoader(sources),
        autoescape=lambda template: bool(template and template.endswith("/html")),
        undefined=StrictUndefined,
    )


def render(name: str, locale: str, context: dict[str, Any]) -> dict[str, str]:
    """The subject, text and html of template `name` in `locale` (English when missing)."""
    if locale not in email_templates()[name]:
        locale = "en"
    environment = template_environment()
    return {
        part: environment.get_template(f"{name}/{locale}/{part}").render(context) for part in PARTS
    }
