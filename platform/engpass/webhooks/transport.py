"""One HTTP POST to a checked address: short timeouts, no redirects, the answer read only so far.

The connection goes to ``Target.address`` — the address ``targets.resolve`` checked — while the ``Host``
header and TLS (server name and certificate) use the URL's host name, so nothing is resolved twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import urllib3

from engpass.webhooks.targets import Target

TIMEOUT = urllib3.Timeout(connect=5.0, read=5.0)
# Enough of the answer for the delivery log; the rest is never read.
EXCERPT_BYTES = 1024


class NetworkError(ConnectionError):
    """No HTTP answer: refused, timed out, reset, or TLS failed."""


@dataclass(frozen=True)
class Answer:
    status: int
    retry_after: str | None
    excerpt: str


def post(target: Target, body: bytes, headers: dict[str, str], *, timeout: urllib3.Timeout = TIMEOUT) -> Answer:
    host = f"[{target.host}]" if ":" in target.host else target.host
    default_port = 443 if target.scheme == "https" else 80
    host_header = host if target.port == default_port else f"{host}:{target.port}"
    all_headers = {
        **headers,
        "Host": host_header,
        "Content-Type": "application/json",
        "User-Agent": "Engpass-Webhooks/1",
    }
    pool: urllib3.HTTPConnectionPool
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            str(target.address),
            target.port,
            server_hostname=target.host,
            assert_hostname=target.host,
            timeout=timeout,
            retries=False,
            maxsize=1,
        )
    else:
        pool = urllib3.HTTPConnectionPool(str(target.address), target.port, timeout=timeout, retries=False, maxsize=1)
    try:
        response = pool.urlopen(
            "POST", target.path, body=body, headers=all_headers, redirect=False, preload_content=False
        )
        try:
            excerpt = response.read(EXCERPT_BYTES, decode_content=False)
        finally:
            response.release_conn()
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise NetworkError(f"{type(exc).__name__}: {exc}"[:300]) from None
    finally:
        pool.close()
    return Answer(response.status, response.headers.get("Retry-After"), excerpt.decode("utf-8", "replace"))
