"""The demo companies' backlogs of bottleneck candidates: what their people proposed, with rough numbers.

Each backlog has open candidates with and without numbers, one picked (linked to the demo cycle it became),
one merged into another and, in some, one dismissed — written through the candidates' services, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from engpass.accounts.service import find_user
from engpass.candidates import service as candidates
from engpass.candidates.models import Candidate, CandidateStatus, DataAvailable, Effort
from engpass.cycles.models import Category, Cycle

D = DataAvailable
E = Effort


@dataclass(frozen=True)
class DemoCandidate:
    title: str
    category: Category
    who: str
    hours: int | None
    cost: int | None
    effort: Effort
    data: DataAvailable
    by: str  # the proposer's e-mail (a demo login of the company)
    description: str = ""
    picked_as: str | None = None  # the title of the demo cycle it became
    merged_into: str | None = None  # the title of the candidate it was merged into
    dismissed: str | None = None  # the reason


BACKLOGS: dict[str, tuple[DemoCandidate, ...]] = {
    "Müller Metallbau GmbH": (
        DemoCandidate(
            "Angebote dauern 9 Tage",
            Category.quoting,
            "Vertrieb, 3 Personen",
            14,
            None,
            E.medium,
            D.yes,
            "owner@demo.example",
            "Kunden bestellen bei schnelleren Wettbewerbern.",
            picked_as="Angebote dauern 9 Tage",
        ),
        DemoCandidate(
            "Nachkalkulation fehlt bei Sonderanfertigungen",
            Category.reporting,
            "Geschäftsführung, Kalkulation",
            6,
            400,
            E.medium,
            D.partly,
            "jonas@demo.example",
            "Wir wissen erst am Jahresende, welche Aufträge Geld verloren haben.",
        ),
        DemoCandidate(
            "Materialbestellung per Fax und Telefon",
            Category.order_errors,
            "Einkauf, 2 Personen",
            8,
            150,
            E.small,
            D.yes,
            "jonas@demo.example",
            "Falsche Mengen führen zu Eilbestellungen mit Aufpreis.",
        ),
        DemoCandidate(
            "Bestellungen beim Lieferanten gehen schief",
            Category.order_errors,
            "Einkauf",
            None,
            300,
            E.unknown,
            D.unknown,
            "owner@demo.example",
            merged_into="Materialbestellung per Fax und Telefon",
        ),
        DemoCandidate(
            "Montageplanung auf Zuruf",
            Category.other,
            "Montage, 6 Personen",
            None,
            None,
            E.large,
            D.no,
            "jonas@demo.example",
            "Wer wann wo ist, steht nur im Kopf des Meisters.",
        ),
    ),
    "Schneider Logistik KG": (
        DemoCandidate(
            "Fehlerquote in der Auftragsabwicklung 7 %",
            Category.order_errors,
            "Disposition, 5 Personen",
            10,
            450,
            E.medium,
            D.yes,
            "schneider@demo.example",
            picked_as="Fehlerquote in der Auftragsabwicklung 7 %",
        ),
        DemoCandidate(
            "Lieferavis werden von Hand geschrieben",
            Category.support,
            "Kundenservice, 2 Personen",
            7,
            None,
            E.small,
            D.yes,
            "admin@demo.example",
            "Jede Kundenanfrage nach dem Liefertermin ist ein Anruf.",
        ),
        DemoCandidate(
            "Kunden rufen wegen Lieferstatus an",
            Category.support,
            "Kundenservice",
            5,
            None,
            E.unknown,
            D.partly,
            "schneider@demo.example",
            merged_into="Lieferavis werden von Hand geschrieben",
        ),
        DemoCandidate(
            "Tourenplanung mit Excel",
            Category.other,
            "Disposition",
            12,
            200,
            E.large,
            D.partly,
            "admin@demo.example",
            "Leerfahrten und Umwege kosten Diesel und Zeit.",
        ),
        DemoCandidate(
            "Schadensmeldungen dauern Wochen",
            Category.other,
            "Lager",
            None,
            None,
            E.unknown,
            D.unknown,
            "admin@demo.example",
        ),
    ),
    "Kanzlei Hofmann Steuerberatung": (
        DemoCandidate(
            "Monatsreporting für Mandanten dauert zu lange",
            Category.reporting,
            "Sachbearbeitung, 4 Personen",
            18,
            None,
            E.medium,
            D.yes,
            "hofmann@demo.example",
            picked_as="Monatsreporting für Mandanten dauert zu lange",
        ),
        DemoCandidate(
            "Fristen werden manuell überwacht",
            Category.other,
            "Alle Berufsträger",
            4,
            250,
            E.small,
            D.yes,
            "hofmann@demo.example",
            "Eine versäumte Frist kostet Säumniszuschläge und Vertrauen.",
        ),
        DemoCandidate(
            "Fristenkontrolle im Kalender",
            Category.other,
            "Sekretariat",
            2,
            None,
            E.small,
            D.partly,
            "hofmann@demo.example",
            merged_into="Fristen werden manuell überwacht",
        ),
        DemoCandidate(
            "Neue Mandanten erfassen dauert",
            Category.leads,
            "Sekretariat",
            None,
            None,
            E.unknown,
            D.no,
            "hofmann@demo.example",
        ),
        DemoCandidate(
            "Papierakten digitalisieren",
            Category.other,
            "Alle",
            6,
            None,
            E.large,
            D.no,
            "hofmann@demo.example",
            dismissed="Läuft bereits als Projekt mit dem IT-Dienstleister.",
        ),
    ),
    "Krause Outdoor Online-Shop": (
        DemoCandidate(
            "Retourenquote zu hoch",
            Category.order_errors,
            "Lager und Kundenservice",
            9,
            1200,
            E.medium,
            D.yes,
            "krause@demo.example",
            "Jede dritte Retoure: falsche Größe.",
            picked_as="Retourenquote zu hoch",
        ),
        DemoCandidate(
            "Produkttexte schreiben kostet Tage",
            Category.other,
            "Marketing, 2 Personen",
            10,
            None,
            E.small,
            D.yes,
            "krause@demo.example",
            "Neue Ware steht wochenlang ohne Beschreibung im Lager.",
        ),
        DemoCandidate(
            "Warenkorbabbrecher werden nicht angesprochen",
            Category.leads,
            "Marketing",
            None,
            600,
            E.small,
            D.partly,
            "krause@demo.example",
            "Geschätzt: 600 € Deckungsbeitrag pro Woche bleiben liegen.",
        ),
        DemoCandidate(
            "Abgebrochene Bestellungen",
            Category.leads,
            "Marketing",
            1,
            None,
            E.unknown,
            D.unknown,
            "krause@demo.example",
            merged_into="Warenkorbabbrecher werden nicht angesprochen",
        ),
        DemoCandidate(
            "Lieferantenrechnungen prüfen",
            Category.reporting,
            "Buchhaltung",
            None,
            None,
            E.unknown,
            D.unknown,
            "krause@demo.example",
        ),
    ),
}


def fill_backlog(session: Session, org_name: str) -> None:
    """The company's backlog, once (inside its tenant context): a later run finds candidates and leaves them."""
    specs = BACKLOGS.get(org_name)
    if not specs or session.scalar(select(Candidate.id).limit(1)) is not None:
        return
    made: dict[str, Candidate] = {}
    for spec in specs:
        proposer = find_user(session, spec.by)
        data = {
            "title": spec.title,
            "category": spec.category,
            "who_feels_it": spec.who,
            "description": spec.description,
            "hours_per_week": None if spec.hours is None else Decimal(spec.hours),
            "cost_per_week": None if spec.cost is None else Decimal(spec.cost),
            "effort": spec.effort,
            "data_available": spec.data,
        }
        made[spec.title] = candidate = candidates.propose(session, data, proposer.id if proposer else None)
        actor = proposer.id if proposer else None
        if spec.merged_into is not None:
            candidates.merge(session, candidate, made[spec.merged_into], actor)
        elif spec.dismissed is not None:
            candidates.dismiss(session, candidate, spec.dismissed, actor)
        elif spec.picked_as is not None:
            # The demo chain made the cycle already, with its history; the candidate only points to it.
            cycle = session.scalars(select(Cycle).where(Cycle.title == spec.picked_as).order_by(Cycle.id)).first()
            if cycle is not None:
                candidate.status = CandidateStatus.picked
                candidate.cycle_id = cycle.id
                candidate.created_at = cycle.created_at
    session.flush()
