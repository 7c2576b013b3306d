"""Secrets kept at rest (a TOTP seed, an identity provider's client secret, a webhook's signing secret),
sealed with Fernet under a key derived from the app's secret key and a purpose.

A copy of the database alone yields none of them. Each purpose has its own key, so a value sealed for one
use cannot be unsealed as another. Changing the app's secret key makes every sealed value unreadable:
``unseal`` answers None and the caller treats the secret as not set (docs/security.md).
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken


def _fernet(purpose: str, secret_key: str) -> Fernet:
    digest = hashlib.sha256(f"engpass.{purpose}:{secret_key}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(purpose: str, secret_key: str, plaintext: str) -> str:
    return _fernet(purpose, secret_key).encrypt(plaintext.encode()).decode()


def unseal(purpose: str, secret_key: str, sealed: str) -> str | None:
    try:
        return _fernet(purpose, secret_key).decrypt(sealed.encode()).decode()
    except InvalidToken:
        return None
