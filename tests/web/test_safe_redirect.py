"""Open redirect: every ``next`` target passes engpass.safe_redirect.local_target, and no browser reading of
what it lets through names another host."""

import time
from urllib.parse import quote, unquote, urljoin, urlsplit

import pyotp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engpass.accounts import twofactor
from engpass.safe_redirect import local_target
from tests.support.accounts import PASSWORD

BASE = "https://engpass.example/o/firma/"
OUR_HOST = "engpass.example"

# Classic payloads from open-redirect cheat sheets.
KNOWN_BYPASSES = [
    "https://evil.example/",
    "http:evil.example",
    "https:/evil.example",
    "//evil.example",
    "///evil.example",
    "////evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\\/evil.example",
    "/%2fevil.example",
    "/%2Fevil.example",
    "/%5cevil.example",
    "/%5Cevil.example",
    "/%252fevil.example",
    "%2f%2fevil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r/evil.example",
    "\t//evil.example",
    " //evil.example",
    "\x00//evil.example",
    "/%09/evil.example",
    "/%0a/evil.example",
    "/%00/evil.example",
    "/\u2028/evil.example",
    "/\u200b/evil.example",
    "/\u3000/evil.example",
    "/./evil.example/..//evil.example",
    "/.//evil.example",
    "/..//evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    "@evil.example",
    "",
]

PREFIXES = ["", "/", "//", "/\\", "\\", "\\\\", "///", "/./", "/../", " ", "\t", "\x00", "https:", "javascript:", "//:"]
SEPARATORS = ["", "/", "\\", "@", ":", "\t", "\n", "\r", "\x0b", "\x0c", "\x1f", "\x7f", "\x85", "\u2028", "\u202e"]
HOSTS = ["evil.example", "evil.example:443", "user@evil.example", "127.0.0.1", "[::1]", "evil.example%2f"]
SUFFIXES = ["", "/", "/x?next=/", "#/", "?a=b"]


def _encodings(text: str) -> list[str]:
    once = quote(text, safe="")
    return [text, once, quote(once, safe=""), text.replace("/", "%2f"), text.replace("\\", "%5c")]


bypass_attempts = st.builds(
    lambda prefix, separator, host, suffix, encode_prefix, encode_separator: (
        _encodings(prefix)[encode_prefix] + _encodings(separator)[encode_separator] + host + suffix
    ),
    st.sampled_from(PREFIXES),
    st.sampled_from(SEPARATORS),
    st.sampled_from(HOSTS),
    st.sampled_from(SUFFIXES),
    st.integers(0, 4),
    st.integers(0, 4),
)


def _as_browsers_read(location: str) -> str:
    """The WHATWG URL parser's first steps: strip C0 controls and spaces, drop tabs and line breaks, and
    (special schemes) take a backslash for a slash."""
    text = location.strip("".join(chr(c) for c in range(0x21)))
    text = text.replace("\t", "").replace("\n", "").replace("\r", "")
    return text.replace("\\", "/")


def _stays_on_our_host(location: str) -> bool:
    readings = [location, unquote(location), unquote(unquote(location))]
    for reading in readings:
        followed = urlsplit(urljoin(BASE, _as_browsers_read(reading)))
        if followed.scheme != "https" or followed.hostname != OUR_HOST:
            return False
    return True


def _assert_safe(raw: str) -> None:
    target = local_target(raw)
    if target is not None:
        assert target == raw
        assert _stays_on_our_host(target), repr(raw)


@pytest.mark.parametrize("raw", KNOWN_BYPASSES)
def test_known_bypasses_are_refused(raw):
    assert local_target(raw) is None


@settings(max_examples=500, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(bypass_attempts)
def test_no_generated_bypass_leaves_our_host(raw):
    _assert_safe(raw)


@settings(max_examples=300, derandomize=True)
@given(st.text(min_size=1, max_size=40))
def test_any_text_accepted_stays_on_our_host(raw):
    _assert_safe(raw)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/o/mueller-metallbau-gmbh/",
        "/o/firma/cycles/12?tab=kpi",
        "/o/firma/todo?q=Angebote%20schneller",
        "/account/password",
        "/o/firma/@team",
        "/o/firma/?next=https://example.org/",
    ],
)
def test_paths_of_this_site_are_kept_unchanged(path):
    assert local_target(path) == path


def _location_is_safe(response, fallback: str) -> None:
    assert response.status_code in (302, 303)
    location = response.headers["Location"]
    assert _stays_on_our_host(location), location
    assert location.startswith("/")
    assert location == fallback or local_target(location) == location


# A NUL byte anywhere is a 400 before any view runs (tests/web/test_route_walk.py).
ENDPOINT_CASES = [raw for raw in KNOWN_BYPASSES if raw and "\x00" not in raw and "%00" not in raw]


@pytest.mark.parametrize("target", ENDPOINT_CASES)
def test_login_sends_only_to_this_site(client, make_user, make_org, target):
    user = make_user()
    org = make_org(owner=user)
    response = client.post("/login", query_string={"next": target}, data={"email": user.email, "password": PASSWORD})
    _location_is_safe(response, f"/o/{org.slug}/")
    # Signed in, the login page sends on to the same place.
    _location_is_safe(client.get("/login", query_string={"next": target}), f"/o/{org.slug}/")


@pytest.mark.parametrize("target", ENDPOINT_CASES)
def test_the_second_login_step_sends_only_to_this_site(client, session, app, make_user, make_org, target):
    user = make_user()
    org = make_org(owner=user)
    secret = twofactor.new_secret()
    step = twofactor.enrolment_step(secret, pyotp.TOTP(secret).now())
    twofactor.enable(session, user, secret, step, app.extensions["engpass.settings"].secret_key)
    session.commit()
    first = client.post("/login", query_string={"next": target}, data={"email": user.email, "password": PASSWORD})
    assert first.status_code == 302
    assert local_target(first.location) == first.location
    code_target = urlsplit(first.location).query
    assert "evil" not in unquote(code_target)
    later = pyotp.TOTP(secret).at(int(time.time()) + 30)
    second = client.post("/login/two-factor", query_string={"next": target}, data={"code": later})
    _location_is_safe(second, f"/o/{org.slug}/")


@pytest.mark.parametrize("target", ENDPOINT_CASES)
def test_reauthentication_sends_only_to_this_site(client, make_user, login, target):
    user = make_user()
    login(user)
    response = client.post("/account/confirm", query_string={"next": target}, data={"password": PASSWORD})
    _location_is_safe(response, "/account/settings")


@pytest.mark.parametrize("target", ENDPOINT_CASES)
def test_the_language_switch_sends_only_to_this_site(client, target):
    response = client.post("/language", data={"locale": "en", "next": target})
    _location_is_safe(response, "/")
    assert response.location == "/"


def test_the_language_switch_returns_to_a_page_with_a_search_term(client):
    target = "/o/firma/todo?q=Angebote%20schneller"
    assert client.post("/language", data={"locale": "en", "next": target}).location == target
