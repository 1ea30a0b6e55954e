"""Redis URLs without their secrets: the password in `redis://user:pw@host` or `?password=pw` is
shown as ***, in the URL and wherever the password text turns up in a message."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, unquote, urlsplit

MASK = "***"
_QUERY_PASSWORD = re.compile(r"(?i)([?&]password=)[^&#]*")


def secrets_of(url: str | None) -> tuple[str, ...]:
    """The password(s) a Redis URL carries, as written and decoded."""
    if not url:
        return ()
    try:
        parts = urlsplit(url)
        found = [parts.password or ""]
        found += [value for key, value in parse_qsl(parts.query) if key.lower() == "password"]
    except ValueError:
        return ()
    out: list[str] = []
    for secret in found:
        if secret:
            out += [secret, unquote(secret), quote(unquote(secret), safe="")]
    return tuple(dict.fromkeys(s for s in out if s))


def mask_url(url: str) -> str:
    """The URL as written, with its password (user-info or `password=` query) replaced by ***."""
    masked = _QUERY_PASSWORD.sub(rf"\g<1>{MASK}", url)
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    if password:
        masked = masked.replace(f":{password}@", f":{MASK}@", 1)
    return masked


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with every secret replaced by ***, longest first; a secret of one to three characters
    is left alone (it would mask ordinary words), the URL itself is always masked by mask_url."""
    for secret in sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text
