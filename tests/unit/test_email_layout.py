"""HTML e-mails read well on a phone and in Outlook: fluid up to 560 px, a fixed width only for Outlook.

Every template's markup is checked for fixed widths a 375 px screen cannot hold (outside the conditional
comments only Outlook on Windows reads), and each mail is rendered and shown in Chromium at 375 px.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from engpass.mail import render_mail
from engpass.settings import REPO_ROOT
from tests.support.browser import PHONE, assert_fits_a_phone

EMAIL_TEMPLATES = REPO_ROOT / "templates" / "email"
# What only Outlook (mso) reads: there a fixed-width table stands in for max-width, which it ignores.
MSO_ONLY = re.compile(r"<!--\[if mso\]>.*?<!\[endif\]-->", re.S)
FIXED_WIDTHS = re.compile(r"""(?<![\w-])width(?:="|:\s*)(\d+)(?:px)?""")

USER = SimpleNamespace(name="Sabine Müller-Lüdenscheidt", email="sabine.mueller-luedenscheidt@metallbau.example")
ORG = SimpleNamespace(name="Müller Metallbau GmbH & Co. KG Blech- und Stahlverarbeitung", slug="mueller-metallbau")
LINK = "http://127.0.0.1:5000/o/mueller-metallbau/einladung/" + "x" * 64
# A context for every mail apart from the digests, which their own tests render from real data.
CONTEXTS = {
    "welcome": {"user": USER, "org": ORG, "link": LINK},
    "password_reset": {"user": USER, "link": LINK, "minutes": 60},
    "email_change": {"user": USER, "link": LINK},
    "email_changed": {"user": USER},
    "invitation": {
        "inviter": USER,
        "org": ORG,
        "role": "Mitglied",
        "link": LINK,
        "has_account": False,
        "expires_at": datetime.now(UTC) + timedelta(days=7),
    },
    "export_finished": {
        "user": USER,
        "org": ORG,
        "ready": True,
        "size_bytes": 2_400_000,
        "link": LINK,
        "until": datetime.now(UTC) + timedelta(days=1),
    },
    "signup_attempt": {"user": USER, "login": LINK, "reset": LINK},
    "api_token_revoked": {
        "user": USER,
        "org": ORG,
        "revoker": USER,
        "token": SimpleNamespace(name="Power Automate Angebotsübersicht", hint="a1b2"),
        "link": LINK,
    },
}


def _mail_templates() -> list[Path]:
    return sorted(EMAIL_TEMPLATES.glob("*.html"))


@pytest.mark.parametrize("template", _mail_templates(), ids=lambda path: path.name)
def test_no_fixed_width_beyond_a_phone_outside_outlooks_conditional_comments(template):
    markup = MSO_ONLY.sub("", template.read_text())
    too_wide = [int(width) for width in FIXED_WIDTHS.findall(markup) if int(width) > PHONE]
    assert too_wide == [], f"{template.name} has fixed widths {too_wide}"


def test_the_layout_is_fluid_with_a_fixed_table_for_outlook():
    layout = (EMAIL_TEMPLATES / "_layout.html").read_text()
    assert "max-width:560px" in layout
    outlook = "".join(MSO_ONLY.findall(layout))
    assert 'width="560"' in outlook
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in layout


def test_every_mail_template_is_rendered_here_or_by_the_digest_tests():
    mails = {path.stem for path in _mail_templates() if not path.name.startswith("_")}
    # The digests and the reminders need weeks of data: tests/unit/test_digest_mail.py and test_reminder_mail.py.
    assert mails - set(CONTEXTS) == {"digest", "digest_clients", "reminders"}


@pytest.mark.parametrize("name", sorted(CONTEXTS))
def test_each_mail_fits_a_phone(app, browser, shots, name):
    with app.test_request_context(headers={"Accept-Language": "de"}):
        mail = render_mail(USER.email, "Betreff", name, **CONTEXTS[name])
    assert "Engpass" in mail.html and LINK.split("/")[-1] in mail.html or name == "email_changed"
    assert_fits_a_phone(browser, mail.html, shots / f"email-{name}-{PHONE}.png")
