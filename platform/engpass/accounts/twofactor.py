"""TOTP two-factor authentication: enrolment, checking a code once, recovery codes. See docs/authentication.md.

The secret is stored sealed (``engpass.sealed``, purpose ``totp``), so a copy of the database alone does
not yield working codes. Changing the secret key therefore switches 2FA off for
everyone in practice: ``secret_of`` cannot decrypt, and those users sign in with a recovery code.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
import segno
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engpass.accounts.models import RecoveryCode, User
from engpass.db import utcnow
from engpass.sealed import seal, unseal

ISSUER = "Engpass"
RECOVERY_CODE_COUNT = 10
# One step either side: a phone clock half a minute off still works, a code older than that does not.
VALID_WINDOW = 1


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The otpauth:// link as an inline SVG QR code, rendered here: no image service learns the secret."""
    return segno.make(uri, error="m").svg_inline(scale=4, dark="#1f2933", light="#ffffff")


def secret_of(user: User, secret_key: str) -> str | None:
    if user.totp_secret is None:
        return None
    return unseal("totp", secret_key, user.totp_secret)


def _normalize(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step the six digits belong to, within the window, or None."""
    digits = _normalize(code)
    # ASCII only: isdigit() also takes other scripts' digits, which no authenticator app shows.
    if len(digits) != 6 or not (digits.isascii() and digits.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), digits):
            return step
    return None


def enrolment_step(secret: str, code: str, now: datetime | None = None) -> int | None:
    """For enrolment: the step of a code that proves the app has the secret about to be saved, or None."""
    return _matching_step(secret, code, now or utcnow())


def enable(session: Session, user: User, secret: str, step: int, secret_key: str) -> list[str]:
    """Store the secret and make fresh recovery codes; returns the codes, shown once and never again.
    ``step`` is the enrolment code's: that code is used up like one at the login."""
    user.totp_secret = seal("totp", secret_key, secret)
    user.totp_last_step = step
    user.two_factor_enabled_at = utcnow()
    return new_recovery_codes(session, user)


def disable(session: Session, user: User) -> None:
    user.totp_secret = None
    user.totp_last_step = None
    user.two_factor_enabled_at = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.flush()


def _hash(code: str) -> str:
    return hashlib.sha256(_normalize(code).encode()).hexdigest()


def new_recovery_codes(session: Session, user: User) -> list[str]:
    """Ten random codes like ``k3j9-xq7m-p2ra`` (60 bits each); the older ones stop working."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(alphabet) for _ in range(12))
        codes.append(f"{raw[:4]}-{raw[4:8]}-{raw[8:]}")
    session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(code)) for code in codes)
    session.flush()
    return codes


def remaining_recovery_codes(session: Session, user: User) -> int:
    rows = session.scalars(
        select(RecoveryCode.id).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )
    return len(rows.all())


def verify(session: Session, user: User, code: str, secret_key: str, now: datetime | None = None) -> str | None:
    """Check a second factor: ``"totp"`` or ``"recovery"`` for what was accepted, None if nothing was.

    A TOTP code is accepted once: its step must be later than the last accepted one (replay protection).
    A recovery code is used up. The caller commits."""
    secret = secret_of(user, secret_key)
    if secret is not None:
        step = _matching_step(secret, code, now or utcnow())
        if step is not None:
            if user.totp_last_step is not None and step <= user.totp_last_step:
                return None
            user.totp_last_step = step
            session.flush()
            return "totp"
    row = session.scalars(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash(code), RecoveryCode.used_at.is_(None)
        )
    ).first()
    if row is None:
        return None
    row.used_at = utcnow()
    session.flush()
    return "recovery"
