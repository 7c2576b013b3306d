"""Which ``next`` targets the app redirects to: only paths on this site (docs/security.md, open redirect).

Browsers read a Location more liberally than Python's URL parser: they drop tabs and line breaks anywhere,
strip leading control characters and spaces, take ``\\`` for ``/``, and some servers and proxies decode
``%2f`` before routing. A target is accepted only when none of these readings can make it name a host or a
scheme: one leading ``/``, then no empty or dot segment, no backslash, control character or white space in the
text as sent, nor in its path after percent-decoding it.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote, urlsplit

# Up to two layers of percent-encoding are unwrapped (a proxy that decodes once, then a browser or a
# second server); a target wrapped deeper is refused rather than unwrapped further.
_DECODE_ROUNDS = 3
_MAX_LENGTH = 2048


def local_target(raw: str | None) -> str | None:
    """``raw`` if every browser reads it as a path on this site, else None."""
    if not raw or len(raw) > _MAX_LENGTH or "\\" in raw or any(_is_unsafe_char(ch) for ch in raw):
        return None
    readings = [raw]
    for _ in range(_DECODE_ROUNDS):
        decoded = unquote(readings[-1])
        if decoded == readings[-1]:
            break
        readings.append(decoded)
    else:
        return None
    return raw if all(_reads_as_local_path(text) for text in readings) else None


def _reads_as_local_path(text: str) -> bool:
    # A decoded query may hold spaces and backslashes (a search term); what decides the host is the path.
    path = text.split("?", 1)[0].split("#", 1)[0]
    if not path.startswith("/") or "//" in path or "\\" in path:
        return False
    # Dot segments could fold "/.//host" into "//host" for whoever normalizes the path next.
    if any(segment in (".", "..") for segment in path.split("/")):
        return False
    if any(_is_unsafe_char(ch) for ch in path):
        return False
    parts = urlsplit(text)
    return not parts.scheme and not parts.netloc


def _is_unsafe_char(ch: str) -> bool:
    # Cc: C0/C1 controls (tab, CR, LF among them); Cf: invisible format characters (bidi overrides, zero
    # width); Z*: every space and the line and paragraph separators.
    return ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zs", "Zl", "Zp")
