"""An organization's OpenID provider, through Authlib: discovery, the authorization code flow with PKCE,
``state`` and ``nonce``, and the ID token's checks — signature by the provider's JWKS, issuer, audience,
expiry and nonce. Nothing here reads or signs a JWT by hand.

The flow's secrets (state, nonce, PKCE verifier) wait in the signed session under Authlib's own keys and are
removed on the first return, so a state comes back once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import FlaskIntegration, FlaskOAuth2App
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from joserfc.errors import ExpiredTokenError, InvalidClaimError, JoseError, MissingClaimError

from engpass.sso.models import SsoConfig

SCOPE = "openid email profile"
HTTP_TIMEOUT_SECONDS = 10
# Clocks of the provider and of this server may differ a little; an ID token is used at once anyway.
ID_TOKEN_LEEWAY_SECONDS = 60
CLIENT_NAME = "sso"


class SignInFailed(Exception):
    """The provider's answer does not sign anyone in. ``reason`` is a short code for the logs and the security
    log; ``message`` what the person is told."""

    def __init__(self, reason: str, message: str | LazyString) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def client_for(config: SsoConfig, secret: str | None) -> FlaskOAuth2App:
    return FlaskOAuth2App(
        FlaskIntegration(CLIENT_NAME),
        name=CLIENT_NAME,
        client_id=config.client_id,
        client_secret=secret,
        server_metadata_url=discovery_url(config.issuer),
        client_kwargs={"scope": SCOPE, "code_challenge_method": "S256", "default_timeout": HTTP_TIMEOUT_SECONDS},
    )


def _checked_metadata(client: FlaskOAuth2App, issuer: str) -> dict[str, Any]:
    try:
        metadata = client.load_server_metadata()
    except (requests.RequestException, ValueError) as exc:
        raise SignInFailed("provider_unreachable", _l("The identity provider did not answer.")) from exc
    # OpenID Connect Discovery: the document must name the issuer it was fetched for, or its keys and
    # endpoints could be anyone's.
    if metadata.get("issuer") != issuer:
        raise SignInFailed("issuer_mismatch", _l("The identity provider names another issuer than configured."))
    return metadata


def authorization_url(
    config: SsoConfig, secret: str | None, redirect_uri: str, login_hint: str | None
) -> tuple[str, str]:
    """The provider's sign-in page for this flow and its state; state, nonce and the PKCE verifier are kept in
    the session."""
    client = client_for(config, secret)
    _checked_metadata(client, config.issuer)
    extra = {"login_hint": login_hint} if login_hint else {}
    try:
        found = client.create_authorization_url(redirect_uri, **extra)
    except RuntimeError as exc:
        raise SignInFailed("provider_incomplete", _l("The identity provider's settings are incomplete.")) from exc
    client.save_authorize_data(redirect_uri=redirect_uri, **found)
    return found["url"], found["state"]


def finish(config: SsoConfig, secret: str | None) -> dict[str, Any]:
    """The claims of the returning request's ID token, after every check; ``SignInFailed`` otherwise."""
    client = client_for(config, secret)
    _checked_metadata(client, config.issuer)
    try:
        token = client.authorize_access_token(
            leeway=ID_TOKEN_LEEWAY_SECONDS, claims_options={"iss": {"essential": True, "value": config.issuer}}
        )
    except MismatchingStateError as exc:
        raise SignInFailed("state_mismatch", _l("This sign-in has expired or was already used.")) from exc
    except OAuthError as exc:
        raise SignInFailed(
            f"provider_error:{exc.error}"[:60], _l("The identity provider did not sign you in.")
        ) from exc
    except ExpiredTokenError as exc:
        raise SignInFailed("token_expired", _l("The identity provider's answer has expired.")) from exc
    except (InvalidClaimError, MissingClaimError) as exc:
        raise SignInFailed(
            f"claim_{exc.claim}", _l("The identity provider's answer was not meant for this sign-in.")
        ) from exc
    except JoseError as exc:
        raise SignInFailed("token_invalid", _l("The identity provider's answer could not be verified.")) from exc
    except requests.RequestException as exc:
        raise SignInFailed("provider_unreachable", _l("The identity provider did not answer.")) from exc
    claims = token.get("userinfo")
    if not claims:
        raise SignInFailed("no_id_token", _l("The identity provider sent no ID token."))
    return dict(claims)


@dataclass
class DiscoveryReport:
    """What the provider answered to the owner's test, for the settings page."""

    ok: bool
    issuer: str | None = None
    endpoints: dict[str, str] = field(default_factory=dict)
    keys: int = 0
    problems: list[str] = field(default_factory=list)


ENDPOINTS = ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "end_session_endpoint")


def check_discovery(config: SsoConfig) -> DiscoveryReport:
    """Fetch the discovery document and the JWKS, and say in words what is missing or wrong."""
    url = discovery_url(config.issuer)
    report = DiscoveryReport(ok=False)
    try:
        response = requests.get(url, timeout=HTTP_TIMEOUT_SECONDS)
        response.raise_for_status()
        metadata = response.json()
    except requests.HTTPError as exc:
        report.problems.append(str(_l("%(url)s answered %(status)s.", url=url, status=exc.response.status_code)))
        return report
    except requests.RequestException as exc:
        report.problems.append(str(_l("%(url)s could not be reached: %(error)s", url=url, error=type(exc).__name__)))
        return report
    except ValueError:
        report.problems.append(str(_l("%(url)s did not answer with JSON.", url=url)))
        return report
    report.issuer = metadata.get("issuer")
    report.endpoints = {name: str(metadata[name]) for name in ENDPOINTS if metadata.get(name)}
    if report.issuer != config.issuer:
        report.problems.append(
            str(
                _l(
                    "The provider names the issuer %(found)s, not %(expected)s.",
                    found=report.issuer,
                    expected=config.issuer,
                )
            )
        )
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if name not in report.endpoints:
            report.problems.append(str(_l("The provider names no %(name)s.", name=name)))
    if "S256" not in metadata.get("code_challenge_methods_supported", ["S256"]):
        report.problems.append(str(_l("The provider does not offer PKCE with S256.")))
    if "jwks_uri" in report.endpoints:
        try:
            keys = requests.get(report.endpoints["jwks_uri"], timeout=HTTP_TIMEOUT_SECONDS)
            keys.raise_for_status()
            report.keys = len(keys.json().get("keys", []))
        except (requests.RequestException, ValueError, AttributeError):
            report.problems.append(str(_l("The provider's keys (JWKS) could not be read.")))
        else:
            if report.keys == 0:
                report.problems.append(str(_l("The provider publishes no signing keys.")))
    report.ok = not report.problems
    return report
