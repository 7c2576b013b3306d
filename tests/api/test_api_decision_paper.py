"""The decision paper over the API: the cycle page's PDF, in the language of ``Accept-Language``."""

import io

from pypdf import PdfReader
from sqlalchemy import select

from engpass import tenancy
from engpass.audit.models import AuditEvent
from tests.support.api import bearer, make_token


def _text(response):
    assert response.status_code == 200, response.text
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "private, no-store"
    reader = PdfReader(io.BytesIO(response.data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return len(reader.pages), " ".join(text.replace("\xa0", " ").replace("\u202f", " ").split())


def test_the_paper_in_german_or_english_and_audited(client, session, company_with_scaled_cycle):
    org, owner, _admin, cycle = company_with_scaled_cycle
    token = make_token(session, org, owner)
    url = f"/api/v1/cycles/{cycle.id}/decision-paper"
    pages, text = _text(client.get(url, headers=bearer(token)))
    assert pages == 2
    assert "Entscheidungsvorlage" in text and "27.040 €" in text and "Noch nicht geplant." in text
    pages, text = _text(client.get(url, headers=bearer(token, **{"Accept-Language": "en"})))
    assert pages == 2
    assert "Decision paper" in text and "€27,040" in text and "Not planned yet." in text
    with tenancy.tenant_context(session, org.id):
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "cycles.exported")).all()
    assert [(e.actor_id, e.object_id, e.details["table"]) for e in events] == [
        (owner.id, cycle.id, "decision_paper")
    ] * 2


def test_a_missing_cycle_is_a_404_problem(client, session, company_with_scaled_cycle):
    org, owner, _admin, _cycle = company_with_scaled_cycle
    response = client.get("/api/v1/cycles/999999/decision-paper", headers=bearer(make_token(session, org, owner)))
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
