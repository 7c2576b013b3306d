"""German first, English available: the catalog is complete and the app speaks it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask_babel import force_locale, format_currency, refresh

from engpass.accounts.models import User
from tests.support.catalogs import TRANSLATIONS

POT = TRANSLATIONS / "messages.pot"
PLACEHOLDER = re.compile(r"%\(\w+\)[a-z]")


def _read(path: Path, locale: str | None = None):
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def _text(response) -> str:
    # Babel formats "65,00 €" with a no-break space.
    return response.get_data(as_text=True).replace("\xa0", " ")


def _page(client, url: str, **kwargs) -> str:
    """GET a page as a new visit would see it.

    The ``app`` fixture keeps one application context for the whole test, so ``g`` (where
    Flask-Babel caches the chosen locale) outlives a request; drop that cache first.
    """
    refresh()
    response = client.get(url, **kwargs)
    assert response.status_code == 200, response.status_code
    return _text(response)


# --- the catalog ------------------------------------------------------------------------------


def test_german_catalog_translates_every_message_of_the_template():
    template = _read(POT)
    german = _read(TRANSLATIONS / "de" / "LC_MESSAGES" / "messages.po", locale="de")
    assert not german.fuzzy, "the catalog header is still marked fuzzy"
    assert german.project == "Engpass"
    assert str(german.locale) == "de"

    problems = []
    for message in template:
        if not message.id:
            continue
        translated = german.get(message.id)
        if translated is None:
            problems.append(f"missing: {message.id!r}")
            continue
        if not translated.string or not str(translated.string).strip():
            problems.append(f"empty: {message.id!r}")
        if translated.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        if sorted(PLACEHOLDER.findall(str(message.id))) != sorted(PLACEHOLDER.findall(str(translated.string))):
            problems.append(f"placeholders differ: {message.id!r} -> {translated.string!r}")
    assert not problems, "\n".join(problems)


def test_german_catalog_has_no_leftovers():
    template_ids = {message.id for message in _read(POT) if message.id}
    german = _read(TRANSLATIONS / "de" / "LC_MESSAGES" / "messages.po", locale="de")
    stale = [message.id for message in german if message.id and message.id not in template_ids]
    assert not stale, f"messages no longer in messages.pot (run `make messages`): {stale}"
    assert not german.obsolete, f"obsolete entries: {list(german.obsolete)}"


def test_compiled_catalog_is_current():
    po_path = TRANSLATIONS / "de" / "LC_MESSAGES" / "messages.po"
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.exists()
    assert mo_path.stat().st_mtime >= po_path.stat().st_mtime


# --- which language a visitor gets ------------------------------------------------------------


def test_login_page_is_german_by_default(client):
    response = client.get("/login")
    assert response.status_code == 200
    page = _text(response)
    assert '<html lang="de">' in page
    assert "Anmelden" in page
    assert "Passwort vergessen?" in page
    assert "Engpass finden" in page  # the method steps beside the form
    assert "Log in" not in page


def test_login_page_is_english_when_the_browser_asks_for_it(client):
    response = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert response.status_code == 200
    page = _text(response)
    assert '<html lang="en">' in page
    assert "Log in" in page
    assert "Find the bottleneck" in page
    assert "Anmelden" not in page


def test_unsupported_browser_language_falls_back_to_german(client):
    page = _page(client, "/login", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert "Anmelden" in page


def test_form_errors_are_german(client):
    response = client.post("/login", data={"email": "", "password": ""})
    assert response.status_code == 422
    assert "Bitte geben Sie Ihre E-Mail-Adresse ein." in _text(response)


# --- switching the language -------------------------------------------------------------------


def test_language_switch_applies_to_a_logged_out_session(client):
    response = client.post("/language", data={"locale": "en", "next": "/login"})
    assert response.status_code == 302
    assert response.location == "/login"
    page = _page(client, "/login")
    assert "Log in" in page
    assert "Anmelden" not in page

    client.post("/language", data={"locale": "de", "next": "/login"})
    assert "Anmelden" in _page(client, "/login")


def test_language_switch_ignores_unknown_languages(client):
    client.post("/language", data={"locale": "xx", "next": "/login"})
    assert "Anmelden" in _page(client, "/login")


def test_language_switch_is_saved_for_a_logged_in_user(client, session, make_user, make_org, login):
    user = make_user(locale="de")
    org = make_org("Müller Metallbau GmbH", owner=user)
    login(user)
    assert "Übersicht" in _page(client, f"/o/{org.slug}/")

    response = client.post("/language", data={"locale": "en", "next": f"/o/{org.slug}/"})
    assert response.status_code == 302

    session.expire_all()
    assert session.get(User, user.id).locale == "en"
    page = _page(client, f"/o/{org.slug}/")
    assert '<html lang="en">' in page
    assert "Overview" in page


def test_saved_language_wins_over_the_browser(client, make_user, make_org, login):
    user = make_user(locale="de")
    org = make_org(owner=user)
    login(user)
    page = _page(client, f"/o/{org.slug}/", headers={"Accept-Language": "en"})
    assert '<html lang="de">' in page
    assert "Übersicht" in page


# --- numbers, money and dates -----------------------------------------------------------------


def _dashboard_with_history(session, client, make_user, make_org, login, locale):
    from datetime import date, timedelta

    from engpass import tenancy
    from engpass.demo.cycles import METALLBAU, build_chain
    from engpass.trends import service as trends

    user = make_user(locale=locale)
    org = make_org("Müller Metallbau GmbH", owner=user)
    with tenancy.tenant_context(session, org.id):
        build_chain(session, METALLBAU, date.today() - timedelta(days=3), user.id, seed=3)
        trends.recompute(session)
        session.commit()
    login(user)
    return _page(client, f"/o/{org.slug}/")


def test_organization_home_formats_money_in_german(session, client, make_user, make_org, login):
    page = _dashboard_with_history(session, client, make_user, make_org, login, "de")
    assert re.search(r">\d{1,3}(\.\d{3})* €<", page.replace("\xa0", " ")), "German grouping, euro sign after"
    assert "Inhaber" in page
    assert "Reifegrad" in page


def test_organization_home_formats_money_in_english_for_an_english_user(session, client, make_user, make_org, login):
    page = _dashboard_with_history(session, client, make_user, make_org, login, "en")
    assert re.search(r">€\d{1,3}(,\d{3})*<", page), "English grouping, euro sign first"
    assert "Owner" in page
    assert "Maturity" in page


@pytest.mark.parametrize(("locale", "expected"), [("de", "27.040,00 €"), ("en", "€27,040.00")])
def test_large_amounts_use_the_locale_grouping(app, locale, expected):
    with app.test_request_context("/"), force_locale(locale):
        assert format_currency(27040, "EUR").replace("\xa0", " ") == expected


@pytest.mark.parametrize("locale", ["de", "en"])
def test_bound_template_gettext_renders_as_the_global_callables_do(app, locale):
    from flask import render_template_string

    from engpass.i18n import bound_template_gettext

    source = (
        "{{ _('Hello %(name)s,', name=name) }}|{{ _('To-do list') }}|"
        "{{ ngettext('%(num)d open item', '%(num)d open items', 1) }}|"
        "{{ ngettext('%(num)d open item', '%(num)d open items', 3) }}|"
        "{% trans count=2 %}{{ count }} thing{% pluralize %}{{ count }} things{% endtrans %}"
    )
    with app.test_request_context(), force_locale(locale):
        expected = render_template_string(source, name="<Jürgen>")
        bound = render_template_string(source, name="<Jürgen>", **bound_template_gettext())
    assert bound == expected
    assert "&lt;Jürgen&gt;" in bound, "escaped as the global callables escape"
    assert ("Hallo" in bound) == (locale == "de")
