"""Starting the test OpenID provider (tests/support/oidc/provider.js) and signing in on its own login form
the way a browser would, without one."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from urllib.parse import urljoin

import pytest
import requests

from engpass.settings import REPO_ROOT
from tests.support.processes import free_port, wait_until

OIDC_DIR = REPO_ROOT / "tests" / "support" / "oidc"

# The people the provider knows. Anyone else is "removed at the provider": its login form refuses them.
ACCOUNTS = {
    "anna@firma.example": {"password": "anna-at-idp", "name": "Anna Arbeit"},
    "ben@firma.example": {"password": "ben-at-idp", "name": "Ben Neu"},
    "olga@firma.example": {"password": "olga-at-idp", "name": "Olga Owner"},
    "ungeprueft@firma.example": {"password": "unverified-at-idp", "email_verified": False},
    "mia@fremd.example": {"password": "mia-at-idp", "name": "Mia Fremd"},
}


def start_provider(redirect_uris: list[str]) -> tuple[subprocess.Popen[bytes], str]:
    """The provider on a free loopback port, once its discovery document answers; (process, issuer)."""
    node = shutil.which("node")
    if node is None or not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
        pytest.fail("the test OpenID provider needs Node 20 and `npm ci --prefix tests/support/oidc`")
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PORT": str(port),
        "REDIRECT_URIS": " ".join(redirect_uris),
        "ACCOUNTS": json.dumps(ACCOUNTS),
    }
    process = subprocess.Popen(
        [node, str(OIDC_DIR / "provider.js")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )

    def answers() -> bool:
        if process.poll() is not None:
            pytest.fail(f"the test OpenID provider exited with {process.returncode}")
        try:
            return requests.get(f"{issuer}/.well-known/openid-configuration", timeout=2).ok
        except requests.RequestException:
            return False

    wait_until("the test OpenID provider", answers, seconds=30)
    return process, issuer


def sign_in_at_provider(authorize_url: str, email: str, password: str) -> str:
    """Follow the provider's redirects to its login form, submit it, and follow on until the provider sends
    the browser back to the relying party: that URL (with ``code`` and ``state``, or ``error``)."""
    browser = requests.Session()
    issuer = re.match(r"https?://[^/]+", authorize_url).group(0)
    response = browser.get(authorize_url, allow_redirects=False, timeout=10)
    submitted = False
    for _ in range(10):
        if response.is_redirect:
            location = urljoin(response.url, response.headers["location"])
            if not location.startswith(issuer):
                return location
            response = browser.get(location, allow_redirects=False, timeout=10)
            continue
        form = re.search(r'<form method="post" action="([^"]+)"', response.text)
        assert form and not submitted, response.text
        submitted = True
        response = browser.post(
            urljoin(response.url, form.group(1)),
            data={"email": email, "password": password},
            allow_redirects=False,
            timeout=10,
        )
    raise AssertionError("the provider never sent the browser back")
