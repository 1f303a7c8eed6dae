"""Keeping secrets out of what a service writes: URLs shown without their credentials or path
(node providers put API keys in either), and log lines masked before they are written.

Policy: an error message or a log line may name a host and port, never a URL's userinfo, path
or query; the configured secrets (`TitanSettings.secrets()`) are masked wherever they appear.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

MASK = "***"
# user:password@ in any URL, and api_key=... in a query string (the dashboard's WebSocket).
# Neither crosses a quote or a backslash, so a masked JSON line stays valid JSON.
_USERINFO = re.compile(r"(?<=://)[^/\s@\"'\\]+@")
_QUERY_KEY = re.compile(r"(?i)(api_key=)[^&\s\"'\\]+")


def redact_url(url: str) -> str:
    """`scheme://host:port`, with `/***` when the URL had a path, query or credentials."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return MASK
    hidden = parts.username or parts.password or parts.path not in ("", "/") or parts.query
    return f"{parts.scheme}://{host}{port}" + (f"/{MASK}" if hidden else "")


class Redactor:
    """Masks the given secrets, URL credentials and `api_key=` values in a text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # longest first, so a secret containing another is masked whole
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        text = _USERINFO.sub(MASK + "@", text)
        return _QUERY_KEY.sub(r"\1" + MASK, text)


def url_secrets(url: str, with_path: bool) -> list[str]:
    """The parts of a URL that must not be shown: its password, and its path and query when
    `with_path` (a node URL, where providers put keys)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    # the user name alone is no secret (and often a common word); the pattern above hides it
    found = [parts.password] if parts.password else []
    if with_path and parts.path not in ("", "/"):
        found.append(parts.path.strip("/"))
    if with_path and parts.query:
        found.append(parts.query)
    return found
