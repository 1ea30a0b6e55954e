"""Redis URLs without their secrets: the password in `redis://user:pw@host` or `?password=pw` is
shown as ***, in the URL and wherever the password text turns up in a message.

A URL that does not parse as one (a password with an unescaped `/`, `?` or `#`, a broken IPv6
host) is masked from its text: everything between the first `:` after `://` and the last `@`
counts as the password. That can hide more than the password in an odd URL, never less."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, unquote, urlsplit

MASK = "***"
_QUERY_PASSWORD = re.compile(r"(?i)([?&]password=)[^&#]*")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_DELIMITERS = re.compile(r"[/?#@]")


def secrets_of(url: str | None) -> tuple[str, ...]:
    """The password(s) a Redis URL carries, as written and decoded."""
    if not url:
        return ()
    found: list[str] = []
    try:
        parts = urlsplit(url)
        found += [parts.password or ""]
    except ValueError:
        pass
    found += [m.group(0).split("=", 1)[1] for m in _QUERY_PASSWORD.finditer(url)]
    try:
        found += [
            value for key, value in parse_qsl(urlsplit(url).query) if key.lower() == "password"
        ]
    except ValueError:
        pass
    raw = _raw_password(_QUERY_PASSWORD.sub(rf"\g<1>{MASK}", url))
    if raw is not None:
        # Redis' own errors quote pieces of a URL it misreads ("port ... as 's3cret'").
        found += [raw, *_DELIMITERS.split(raw)]
    out: list[str] = []
    for secret in found:
        if secret and secret != MASK:
            out += [secret, unquote(secret), quote(unquote(secret), safe="")]
    return tuple(dict.fromkeys(s for s in out if s))


def mask_url(url: str) -> str:
    """The URL as written, with its password (user-info or `password=` query) replaced by ***."""
    masked = _QUERY_PASSWORD.sub(rf"\g<1>{MASK}", url)
    raw = _raw_password(masked)
    if raw is not None:
        start = _SCHEME.match(masked)
        assert start is not None  # _raw_password found one
        head, tail = masked[: start.end()], masked[start.end() :]
        user, _, _ = tail.partition(":")
        return f"{head}{user}:{MASK}@{tail[tail.rindex('@') + 1 :]}"
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    if password:
        masked = masked.replace(f":{password}@", f":{MASK}@", 1)
    return masked


def _raw_password(masked: str) -> str | None:
    """The password of a URL whose user-info the URL parser does not see as such (it fails, or it
    finds no `@` in the host part while the text has one): between the first `:` after `://` and
    the last `@`. None for a well-formed URL (urlsplit then knows the password) or one without."""
    start = _SCHEME.match(masked)
    if start is None or "@" not in masked[start.end() :]:
        return None
    try:
        if "@" in urlsplit(masked).netloc:
            return None
    except ValueError:
        pass
    userinfo = masked[start.end() : masked.rindex("@")]
    if ":" not in userinfo:
        return None
    return userinfo.split(":", 1)[1] or None


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with every secret replaced by ***, longest first; a secret of one to three characters
    is left alone (it would mask ordinary words), the URL itself is always masked by mask_url."""
    for secret in sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text
