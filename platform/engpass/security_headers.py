"""The security headers every answer carries (docs/security.md): one place, called by the app's after_request hook."""

from __future__ import annotations

from flask import Request
from werkzeug.wrappers import Response

# No inline script or style anywhere (templates keep it so; tests/web/test_security_headers.py checks every page),
# so the policy needs neither 'unsafe-inline' nor nonces. object-src 'none': no plugins, whatever default-src says.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'self'; object-src 'none'"
)
# Two years, as the HSTS preload list recommends; sent only over https, the one place a browser honours it.
STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"
# The app uses none of these features: no page, nor anything injected into one, may ask for them.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
# Pages with an organization's or a user's data, and the pages whose address is a credential (the
# signed links in e-mails): never kept by a browser or a proxy.
PRIVATE_PREFIXES = ("/o/", "/account", "/todo", "/notifications/", "/dev/", "/invitations/", "/password/", "/api/")


def apply(response: Response, request: Request) -> Response:
    """Set the headers a view did not set itself; HSTS only when this request came over https.

    ``request.is_secure`` sees the client's scheme behind a proxy only when ENGPASS_PROXY_COUNT makes the app
    trust X-Forwarded-Proto (ProxyFix in create_app); otherwise a forged header cannot switch HSTS on.
    """
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    if request.path.startswith(PRIVATE_PREFIXES):
        headers.setdefault("Cache-Control", "private, no-store")
    return response
