"""Account rules: sign-up, authentication and password-reset tokens."""

from __future__ import annotations

import hashlib
import secrets
from functools import cache

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from engpass import task_names, tenancy
from engpass.accounts.models import User, new_session_token, normalize_email
from engpass.audit.service import record
from engpass.organizations.models import Organization, OrgKind
from engpass.organizations.service import create_organization
from engpass.outbox.service import enqueue

RESET_SALT = "engpass.password-reset"


@cache
def _dummy_hash() -> str:
    """Checked against when the e-mail is unknown, so both failures take the same time."""
    return generate_password_hash(secrets.token_hex(16))


class EmailTaken(ValueError):
    pass


def find_user(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == normalize_email(email))).first()


def create_user(session: Session, email: str, name: str, password: str, *, locale: str = "de") -> User:
    if find_user(session, email) is not None:
        raise EmailTaken(email)
    user = User(email=email, name=name.strip(), locale=locale)
    user.set_password(password)
    session.add(user)
    session.flush()
    return user


def sign_up(
    session: Session, *, name: str, email: str, password: str, company: str, locale: str = "de"
) -> tuple[User, Organization]:
    """A new person with their company, as its owner."""
    try:
        user = create_user(session, email, name, password, locale=locale)
    except EmailTaken:
        # As long as a new account's hash: the time of the answer tells no more than the answer.
        generate_password_hash(password)
        raise
    org = create_organization(session, company, user, kind=OrgKind.company, locale=locale)
    with tenancy.tenant_context(session, org.id):
        record(session, "organization.created", actor_id=user.id, object_type="organization", object_id=org.id)
        enqueue(session, task_names.SEND_WELCOME, user_id=user.id)
        session.flush()
    return user, org


def authenticate(session: Session, email: str, password: str) -> User | None:
    user = find_user(session, email)
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    return user if user.check_password(password) else None


def sign_out_everywhere(session: Session, user: User) -> None:
    """Rotate the token every session cookie and remember-me cookie of this user carries: all of them end.
    Sessions live in signed cookies, so there is no server-side session to delete one by one."""
    user.session_token = new_session_token()
    session.flush()


def _reset_serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=RESET_SALT)


def _password_fingerprint(user: User) -> str:
    # Changes with the password, which makes every token issued before a reset unusable.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def make_reset_token(secret_key: str, user: User) -> str:
    return _reset_serializer(secret_key).dumps({"u": user.id, "f": _password_fingerprint(user)})


def user_for_reset_token(session: Session, secret_key: str, token: str, max_age: int) -> User | None:
    """The user a reset token was issued for, or None if it is forged, expired or already used."""
    try:
        data = _reset_serializer(secret_key).loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict):
        return None
    user = session.get(User, data.get("u")) if isinstance(data.get("u"), int) else None
    if user is None or data.get("f") != _password_fingerprint(user):
        return None
    return user


# --- changing the e-mail address ------------------------------------------------------------------

EMAIL_CHANGE_SALT = "engpass.email-change"
# A day: the mail may sit in a mailbox overnight, and the change needs the current address too.
EMAIL_CHANGE_MAX_AGE = 24 * 3600


class EmailChangeInvalid(ValueError):
    """The confirmation link is forged, expired, already used, or the address was taken meanwhile."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "invalid", "expired", "used" or "taken"


def _email_fingerprint(email: str) -> str:
    # Changes with the address: once the change is made (or another one), older links are used up.
    return hashlib.sha256(normalize_email(email).encode()).hexdigest()[:16]


def make_email_change_token(secret_key: str, user: User, new_email: str) -> str:
    """A signed link for the NEW address: whoever opens it proves they can read that mailbox."""
    serializer = URLSafeTimedSerializer(secret_key, salt=EMAIL_CHANGE_SALT)
    return serializer.dumps({"u": user.id, "e": normalize_email(new_email), "f": _email_fingerprint(user.email)})


def email_change_from_token(
    session: Session, secret_key: str, token: str, max_age: int = EMAIL_CHANGE_MAX_AGE
) -> tuple[User, str]:
    """The user and the new address a confirmation link stands for; raises ``EmailChangeInvalid``."""
    serializer = URLSafeTimedSerializer(secret_key, salt=EMAIL_CHANGE_SALT)
    try:
        data = serializer.loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise EmailChangeInvalid("expired") from exc
    except BadSignature as exc:
        raise EmailChangeInvalid("invalid") from exc
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) or not isinstance(data.get("e"), str):
        raise EmailChangeInvalid("invalid")
    user = session.get(User, data["u"])
    if user is None:
        raise EmailChangeInvalid("invalid")
    if data.get("f") != _email_fingerprint(user.email):
        raise EmailChangeInvalid("used")
    other = find_user(session, data["e"])
    if other is not None and other.id != user.id:
        raise EmailChangeInvalid("taken")
    return user, data["e"]


def change_email(session: Session, user: User, new_email: str) -> str:
    """Set the confirmed address; the old one, for the notice sent to it. Other sessions are signed
    out (the address is the login name), and every signed link made for the old address dies with it."""
    old = user.email
    user.email = new_email
    user.session_token = new_session_token()
    session.flush()
    return old
