"""The team page and the invitation link over HTTP: the journeys, bad input, other tenants, the e-mail."""

import re
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as email_policy
from pathlib import Path

import pytest
from sqlalchemy import select, update

from engpass import tenancy
from engpass.accounts.models import User
from engpass.audit.models import AuditEvent
from engpass.db import utcnow
from engpass.organizations.models import Membership, Role
from engpass.team import service
from engpass.team.mail import Outcome, send_invitation
from engpass.team.models import Invitation
from tests.support.accounts import PASSWORD

EN = {"Accept-Language": "en"}


@pytest.fixture
def logged_in_owner(make_user, make_org, login):
    owner = make_user(name="Sabine Müller", email="sabine@example.com")
    org = make_org("Müller Metallbau GmbH", owner=owner)
    login(owner)
    return owner, org


def _invitation(session, org, email="jonas@example.com"):
    with tenancy.tenant_context(session, org.id):
        return session.scalars(select(Invitation).where(Invitation.email == email)).one()


def _mails(app):
    folder = Path(app.extensions["engpass.settings"].outbox_dir)
    return (
        [message_from_bytes(p.read_bytes(), policy=email_policy) for p in sorted(folder.glob("*.eml"))]
        if folder.exists()
        else []
    )


def _part(message, kind):
    for part in message.walk():
        if part.get_content_type() == f"text/{kind}":
            return part.get_payload(decode=True).decode()
    raise AssertionError(f"no text/{kind} part")


def _send(app, session, org, invitation):
    """What the worker does: make the token, send the mail; the link from the mail."""
    # Read inside the organization: on PostgreSQL row-level security hides the row from anywhere else.
    with tenancy.tenant_context(session, org.id):
        session.refresh(invitation)
        invitation_id, send_round = invitation.id, invitation.send_round
    with app.app_context():
        assert send_invitation(session, org.id, invitation_id, send_round) == Outcome.sent
    text = _part(_mails(app)[-1], "plain")
    return re.search(r"http://engpass\.test(/invitations/\S+)", text).group(1)


def _invite(client, org, email="jonas@example.com", role="member"):
    response = client.post(f"/o/{org.slug}/team/invite", data={"email": email, "role": role})
    assert response.status_code == 302, response.text
    return response


def _member_role(session, org, user_email):
    user = session.scalars(select(User).where(User.email == user_email)).one_or_none()
    if user is None:
        return None
    session.expire_all()
    membership = session.scalars(
        select(Membership).where(Membership.organization_id == org.id, Membership.user_id == user.id)
    ).first()
    return membership.role if membership else None


def test_jonas_is_invited_signs_up_with_the_link_and_lands_in_the_company(app, client, session, logged_in_owner):
    _, org = logged_in_owner
    _invite(client, org)
    page = client.get(f"/o/{org.slug}/team/")
    assert "jonas@example.com" in page.text and "Wird gesendet" in page.text
    invitation = _invitation(session, org)
    link = _send(app, session, org, invitation)

    mail = _mails(app)[-1]
    assert mail["To"] == "jonas@example.com"
    assert mail.get_content_type() == "multipart/alternative"
    assert "Sabine Müller lädt Sie" in mail["Subject"]
    assert link in _part(mail, "html")
    assert invitation.token_hash not in link  # the hash is not the token

    client.post("/logout")
    form = client.get(link)
    assert form.status_code == 200
    assert 'value="jonas@example.com" readonly' in form.text
    bad = client.post(link, data={"name": "Jonas", "password": "kurz", "confirm": "kurz"})
    assert bad.status_code == 422 and 'class="field__error"' in bad.text and 'value="Jonas"' in bad.text
    done = client.post(link, data={"name": "Jonas Weber", "password": PASSWORD, "confirm": PASSWORD})
    assert done.status_code == 302 and done.location == f"/o/{org.slug}/"
    assert client.get(f"/o/{org.slug}/").status_code == 200
    assert _member_role(session, org, "jonas@example.com") == Role.member
    # Single use: the same link again says so, and it is no error of ours.
    again = client.get(link)
    assert again.status_code == 410 and "bereits angenommen" in again.text
    with tenancy.tenant_context(session, org.id):
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["member.invited", "invitation.accepted"]
    # He just chose his password: a sensitive action right away does not ask for it again.
    token = client.post(f"/o/{org.slug}/api-tokens/", data={"name": "Erstes Skript", "expires": "30"})
    assert token.status_code == 201, token.location


def test_an_existing_account_logs_in_first_then_accepts(app, client, session, logged_in_owner, make_user, login):
    _, org = logged_in_owner
    jonas = make_user(email="jonas@example.com", name="Jonas")
    _invite(client, org, role="viewer")
    link = _send(app, session, org, _invitation(session, org))
    assert "Einladung annehmen" in _part(_mails(app)[-1], "plain")
    client.post("/logout")
    page = client.get(link, headers=EN)
    assert page.status_code == 200 and "log in with it to accept" in page.text
    assert client.post(link, data={"name": "X", "password": PASSWORD, "confirm": PASSWORD}).status_code == 200
    assert _member_role(session, org, jonas.email) is None  # no sign-up over an existing account
    response = client.post(f"/login?next={link}", data={"email": jonas.email, "password": PASSWORD})
    assert response.location == link
    assert client.get(link).status_code == 200
    assert client.post(link).status_code == 302
    assert _member_role(session, org, jonas.email) == Role.viewer


def test_a_mismatched_account_is_refused_clearly(app, client, session, logged_in_owner, make_user, login):
    _, org = logged_in_owner
    _invite(client, org)
    link = _send(app, session, org, _invitation(session, org))
    stranger = make_user(email="petra@example.com")
    client.post("/logout")
    login(stranger)
    for method in ("GET", "POST"):
        response = client.open(link, method=method)
        assert response.status_code == 403
        assert "andere E-Mail-Adresse" in response.text and "petra@example.com" in response.text
    assert _member_role(session, org, "petra@example.com") is None
    switched = client.post(link + "/logout")
    assert switched.location == link
    assert client.get(link).status_code == 200  # now anonymous: the sign-up form


def test_expired_cancelled_replaced_and_forged_links(app, client, session, logged_in_owner):
    owner, org = logged_in_owner
    _invite(client, org)
    invitation = _invitation(session, org)
    old_link = _send(app, session, org, invitation)

    assert client.post(f"/o/{org.slug}/team/invitations/{invitation.id}/resend").status_code == 302
    new_link = _send(app, session, org, invitation)
    assert new_link != old_link
    replaced = client.get(old_link)
    assert replaced.status_code == 404 and "durch eine neuere Einladung ersetzt" in replaced.text

    with tenancy.tenant_context(session, org.id):
        session.execute(update(Invitation).values(expires_at=utcnow() - timedelta(minutes=1)))
        session.commit()
    expired = client.get(new_link)
    assert expired.status_code == 410 and "abgelaufen" in expired.text
    assert client.post(new_link).status_code == 410

    with tenancy.tenant_context(session, org.id):
        session.execute(update(Invitation).values(expires_at=utcnow() + timedelta(days=1)))
        session.commit()
    assert client.post(f"/o/{org.slug}/team/invitations/{invitation.id}/cancel").status_code == 302
    cancelled = client.get(new_link)
    assert cancelled.status_code == 410 and "zurückgezogen" in cancelled.text

    prefix, _, secret = new_link.rpartition("/")[2].partition(".")
    # One character changed for certain (the token is hashed as a string: any change is another token).
    altered = f"{prefix}.{secret[:-1]}{'B' if secret.endswith('A') else 'A'}"
    for token in ("nonsense", altered, f"99999.{secret}", f"{prefix}.{'x' * 300}", "%00"):
        response = client.get(f"/invitations/{token}")
        assert response.status_code in (400, 404), token
    assert client.get(f"/invitations/{altered}").status_code == 404


def test_bad_invitations_are_refused_with_a_message_and_keep_what_was_typed(
    client, session, logged_in_owner, make_user, make_org
):
    owner, org = logged_in_owner
    url = f"/o/{org.slug}/team/invite"
    response = client.post(url, data={"email": "kein-at-zeichen", "role": "member"})
    assert response.status_code == 422 and 'value="kein-at-zeichen"' in response.text
    assert 'class="field__error"' in response.text
    assert client.post(url, data={"email": "a@example.com", "role": "boss"}).status_code == 422
    response = client.post(url, data={"email": owner.email, "role": "member"})
    assert response.status_code == 422 and "gehört bereits zum Team" in response.text
    _invite(client, org, "a@example.com")
    response = client.post(url, data={"email": "A@example.com", "role": "viewer"})
    assert response.status_code == 422 and "noch eine Einladung offen" in response.text
    with tenancy.tenant_context(session, org.id):
        assert len(session.scalars(select(Invitation)).all()) == 1


def test_admins_cannot_invite_or_make_owners(client, session, make_user, make_org, login):
    admin, member = make_user(), make_user(name="Mia")
    org = make_org(owner=make_user(), members={admin: Role.admin, member: Role.member})
    login(admin)
    page = client.get(f"/o/{org.slug}/team/")
    assert 'value="owner"' not in page.text
    assert (
        client.post(f"/o/{org.slug}/team/invite", data={"email": "x@example.com", "role": "owner"}).status_code == 422
    )
    target = session.scalars(select(Membership).where(Membership.user_id == member.id)).one()
    response = client.post(f"/o/{org.slug}/team/members/{target.id}/role", data={"role": "owner"})
    assert response.status_code == 403 and "Nur Inhaber können" in response.text
    assert client.post(f"/o/{org.slug}/team/members/{target.id}/role", data={"role": "admin"}).status_code == 302
    session.expire_all()
    assert session.get(Membership, target.id).role == Role.admin


def test_the_last_owner_gets_a_clear_answer_never_a_500(client, session, logged_in_owner):
    owner, org = logged_in_owner
    mine = session.scalars(select(Membership).where(Membership.user_id == owner.id)).one()
    demote = client.post(f"/o/{org.slug}/team/members/{mine.id}/role", data={"role": "admin"})
    assert demote.status_code == 409 and "letzte Inhaber" in demote.text
    leave = client.post(f"/o/{org.slug}/team/leave")
    assert leave.status_code == 409 and "letzte Inhaber" in leave.text
    remove = client.post(f"/o/{org.slug}/team/members/{mine.id}/remove")
    assert remove.status_code == 422 and "„Verlassen“" in remove.text
    session.expire_all()
    assert session.get(Membership, mine.id).role == Role.owner
    assert "Letzter Inhaber: Übertragen Sie die Inhaberschaft" in client.get(f"/o/{org.slug}/team/").text


def test_transfer_then_leave(client, session, logged_in_owner, make_user):
    owner, org = logged_in_owner
    jonas = make_user(name="Jonas")
    with tenancy.tenant_context(session, org.id):
        target = Membership(organization_id=org.id, user_id=jonas.id, role=Role.member)
        session.add(target)
        session.commit()
    assert client.post(f"/o/{org.slug}/team/transfer", data={"transfer-membership_id": "999999"}).status_code == 422
    assert (
        client.post(f"/o/{org.slug}/team/transfer", data={"transfer-membership_id": str(target.id)}).status_code == 302
    )
    session.expire_all()
    assert session.get(Membership, target.id).role == Role.owner
    assert client.post(f"/o/{org.slug}/team/leave").status_code == 302
    assert client.get(f"/o/{org.slug}/").status_code == 404


def test_remove_a_member_who_then_sees_nothing(client, session, logged_in_owner, make_user):
    owner, org = logged_in_owner
    jonas = make_user(name="Jonas")
    with tenancy.tenant_context(session, org.id):
        target = Membership(organization_id=org.id, user_id=jonas.id, role=Role.member)
        session.add(target)
        session.commit()
    target_id = target.id
    assert client.post(f"/o/{org.slug}/team/members/{target_id}/remove").status_code == 302
    session.expire_all()
    assert session.get(Membership, target_id) is None
    assert f'id="member-{target_id}"' not in client.get(f"/o/{org.slug}/team/").text


def test_other_organizations_members_and_invitations_answer_404(
    app, client, session, logged_in_owner, make_user, make_org
):
    owner, org = logged_in_owner
    other_owner = make_user()
    victim = make_user(email="victim@example.com")
    other = make_org("Fremde AG", owner=other_owner, members={victim: Role.member})
    with tenancy.tenant_context(session, other.id):
        invitation = service.invite(
            session,
            other,
            session.scalars(select(Membership).where(Membership.user_id == other_owner.id)).one(),
            "x@example.com",
            Role.member,
        )
        session.commit()
    theirs = session.scalars(select(Membership).where(Membership.user_id == victim.id)).one()
    for url in (
        f"/o/{org.slug}/team/members/{theirs.id}/role",
        f"/o/{org.slug}/team/members/{theirs.id}/remove",
        f"/o/{org.slug}/team/invitations/{invitation.id}/resend",
        f"/o/{org.slug}/team/invitations/{invitation.id}/cancel",
    ):
        response = client.post(url, data={"role": "viewer"})
        assert response.status_code == 404, url
        assert "Fremde" not in response.text
    assert (
        client.post(f"/o/{org.slug}/team/transfer", data={"transfer-membership_id": str(theirs.id)}).status_code == 422
    )
    session.expire_all()
    assert session.get(Membership, theirs.id).role == Role.member


def _member_invited(session, owner, org):
    """The owner's committed invitation of jonas@example.com as a member."""
    with tenancy.tenant_context(session, org.id):
        mine = session.scalars(select(Membership).where(Membership.user_id == owner.id)).one()
        invitation = service.invite(session, org, mine, "jonas@example.com", Role.member)
        session.commit()
    return invitation


def test_a_temporary_mail_failure_releases_the_token_for_the_retry(app, session, logged_in_owner, monkeypatch):
    from engpass.mail import Mailer, SendResult

    owner, org = logged_in_owner
    invitation = _member_invited(session, owner, org)
    invitation_id = invitation.id
    monkeypatch.setattr(Mailer, "send", lambda self, message: SendResult(ok=False, error="451 try later"))
    with app.app_context():
        assert send_invitation(session, org.id, invitation_id, 0) == Outcome.retry
    assert invitation.token_hash is None and invitation.mail_error == "451 try later"
    monkeypatch.setattr(Mailer, "send", lambda self, message: SendResult(ok=True, message_id="<x@y>"))
    with app.app_context():
        assert send_invitation(session, org.id, invitation_id, 0) == Outcome.sent
        # A late second delivery of the same round, and a stale round, send nothing.
        assert send_invitation(session, org.id, invitation_id, 0) == Outcome.skipped
        assert send_invitation(session, org.id, invitation_id, 5) == Outcome.skipped
    with tenancy.tenant_context(session, org.id):
        session.refresh(invitation)
        assert invitation.sent_at is not None and invitation.token_hash is not None


def test_the_worker_task_runs_the_send(app, celery, session, logged_in_owner):
    owner, org = logged_in_owner
    invitation = _member_invited(session, owner, org)
    from engpass.task_names import SEND_INVITATION

    with app.app_context():
        result = celery.tasks[SEND_INVITATION].apply(
            kwargs={"org_id": org.id, "invitation_id": invitation.id, "send_round": 0}
        )
    assert result.get() == "sent"
    assert _mails(app)[-1]["To"] == "jonas@example.com"


def test_the_team_page_explains_the_roles_and_invitation_links_are_never_cached(client, logged_in_owner):
    _, org = logged_in_owner
    page = client.get(f"/o/{org.slug}/team/")
    assert "Wer darf was?" in page.text and "Inhaberschaft übertragen" in page.text
    response = client.get("/invitations/1.abcdefghijklmnopqrstuvwxyz")
    assert response.status_code == 404
    assert response.headers["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("level", ["read", "edit"])
def test_a_consultant_finds_no_team_page_of_the_client(client, session, login, make_user, make_org, level):
    from engpass.consulting.models import AccessLevel, ClientAccess
    from engpass.organizations.models import OrgKind

    petra = make_user("petra@weber.example", "Petra Weber")
    firm = make_org("Weber & Partner", owner=petra, kind=OrgKind.consultancy)
    sabine = make_user("sabine@mueller.example", "Sabine Müller")
    org = make_org("Müller Metallbau GmbH", owner=sabine)
    session.add(ClientAccess(consultancy_id=firm.id, client_id=org.id, level=AccessLevel(level)))
    session.commit()
    login(petra)
    # The client's consultants page promises a consultancy never sees its members (test_consultant_privacy.py).
    page = client.get(f"/o/{org.slug}/team/")
    assert page.status_code == 404 and "Sabine Müller" not in page.text
    assert client.post(f"/o/{org.slug}/team/leave").status_code == 404
    assert (
        client.post(f"/o/{org.slug}/team/invite", data={"email": "x@example.com", "role": "viewer"}).status_code == 404
    )
    assert client.get(f"/o/{org.slug}/").status_code == 200


def test_the_audit_log_names_the_team_changes_readably(client, logged_in_owner):
    _, org = logged_in_owner
    _invite(client, org)
    log = client.get(f"/o/{org.slug}/audit/?action=member.invited")
    assert log.status_code == 200
    assert "Person eingeladen" in log.text and "jonas@example.com" in log.text


def test_an_inviter_name_with_a_line_break_from_before_still_sends_the_invitation(app, session, logged_in_owner):
    owner, org = logged_in_owner
    # Stored before names were refused with control characters.
    owner.name = "Sabine\r\nBcc: opfer@example.com"
    session.commit()
    invitation = _member_invited(session, owner, org)
    _send(app, session, org, invitation)
    mail = _mails(app)[-1]
    assert mail["Subject"].startswith("Sabine Bcc: opfer@example.com lädt Sie")
    assert mail["Bcc"] is None


def test_an_invitation_that_cannot_be_written_shows_as_failed_with_its_reason(
    app, client, session, logged_in_owner, monkeypatch
):
    import engpass.team.mail as team_mail

    owner, org = logged_in_owner
    invitation = _member_invited(session, owner, org)
    invitation_id = invitation.id

    def unwritable(*args, **kwargs):
        raise ValueError("the header Subject has a part longer than 998 characters")

    monkeypatch.setattr(team_mail, "build_message", unwritable)
    with app.app_context():
        assert send_invitation(session, org.id, invitation_id, 0) == Outcome.failed
    page = client.get(f"/o/{org.slug}/team/")
    assert "Wird gesendet" not in page.text
    assert "Die E-Mail konnte nicht erstellt werden: the header Subject has a part longer" in page.text
