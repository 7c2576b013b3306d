"""A rich organization for the data-protection tests: one of everything a row can belong to it by."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from engpass import tenancy
from engpass.accounts import welcome
from engpass.accounts.models import User
from engpass.audit.service import VIA_KEY, acting_via, record
from engpass.consulting import service as consulting
from engpass.consulting.models import AccessLevel
from engpass.cycles import service as cycles
from engpass.cycles.models import Category, CycleTemplate, Decision, KpiDirection, SolutionType, Stage
from engpass.digest.sending import kind_for
from engpass.exports import mail as export_mail
from engpass.notifications import sendlog
from engpass.notifications.models import NotificationPreferences
from engpass.organizations.models import Membership, Organization, OrgKind, Role
from engpass.organizations.service import add_member, create_organization
from engpass.outbox.models import OutboxMessage
from engpass.reminders.rules import KIND_PREFIX
from engpass.team import service as team
from engpass.tokens import mail as token_mail
from engpass.trends import service as trends


def cycle_in(session: Any, owner: User, stage: Stage, title: str) -> Any:
    """A cycle taken through the services up to ``stage``, with process steps and measurements on the way."""
    cycle = cycles.create_cycle(
        session,
        title=title,
        category=Category.quoting,
        why="Hebel",
        owner_id=owner.id,
        actor_id=owner.id,
        confirm_second_open=True,
    )
    steps = [cycles.StepInput("Anfrage lesen", "Vertrieb", 20), cycles.StepInput("Angebot", "Vertrieb", 40)]
    moves = [
        lambda: cycles.save_baseline(
            session,
            cycle,
            {
                "hours_per_week": Decimal(14),
                "kpi_name": "Dauer",
                "kpi_unit": "Tage",
                "kpi_direction": KpiDirection.lower,
                "kpi_baseline": Decimal(9),
                "kpi_target": Decimal(4),
            },
            steps,
            owner.id,
        ),
        lambda: cycles.save_solution(
            session,
            cycle,
            {"solution_what": "Vorlage", "solution_type": SolutionType.other, "effort_days": Decimal(6)},
            owner.id,
        ),
        lambda: cycles.start_prototype(
            session, cycle, {"prototype_start": date.today() - timedelta(days=20)}, owner.id
        ),
        lambda: cycles.add_measurement(
            session,
            cycle,
            {"measured_on": date.today(), "kpi_value": Decimal(4), "hours_per_week": Decimal(6)},
            owner.id,
        ),
        lambda: cycles.decide(
            session,
            cycle,
            {
                "decision": Decision.scale,
                "decision_reason": "Wirkt",
                "lessons_worked": "Vorlage",
                "lessons_failed": "Export",
                "lessons_differently": "Früher messen",
            },
            owner.id,
        ),
    ]
    order = [Stage.bottleneck, Stage.baseline, Stage.solution, Stage.prototype, Stage.result, Stage.decided]
    for move in moves[: order.index(stage)]:
        move()
    session.flush()
    return cycle


@dataclass
class Rich:
    org: Organization
    owner: User
    member: User
    cycle_ids: list[int] = field(default_factory=list)
    # The reminders' send-log keys (user, kind, period): their period names one of its cycles.
    reminder_keys: list[tuple[int, str, str]] = field(default_factory=list)
    other: Organization | None = None


def rich_organization(
    session: Any, make_user: Any, name: str, *, kind: OrgKind = OrgKind.company, shared: User | None = None
) -> Rich:
    """An organization with cycles in every stage (steps, measurements, stage changes, one step back, one
    cycle deleted), a template, snapshots, audit events, outbox messages, invitations, send-log rows of its
    members for the welcome mail, digests, reminders, a data export and a revoked token, and a consultant's
    access — as the client of a consultancy, or as the consultancy of a client — with a request and an audit
    event marked with it.

    ``shared`` joins as a viewer: a person who belongs to more organizations than this one."""
    owner, member = make_user(name=f"Owner {name}"), make_user(name=f"Member {name}")
    org = create_organization(session, name, owner, kind=kind)
    add_member(session, org, member, Role.member)
    if shared is not None:
        add_member(session, org, shared, Role.viewer)
    session.add(NotificationPreferences(user_id=member.id, digest_hour=9))
    session.flush()
    rich = Rich(org, owner, member)
    with tenancy.tenant_context(session, org.id):
        for number, stage in enumerate(Stage):
            rich.cycle_ids.append(cycle_in(session, owner, stage, f"{name} Zyklus {number}").id)
        back = cycle_in(session, owner, Stage.solution, f"{name} zurück")
        cycles.change_stage(session, back, Stage.baseline, member.id)
        rich.cycle_ids.append(back.id)
        gone = cycle_in(session, owner, Stage.baseline, f"{name} gelöscht")
        gone_id = gone.id
        # Reminded about before it was deleted (on SQLite its id may go to another organization's next cycle).
        gone_key = (owner.id, f"{KIND_PREFIX}missing_baseline", f"{gone_id}:2026-11-21")
        sendlog.claim(session, *gone_key)
        cycles.delete_cycle(session, gone, owner.id)
        session.add(
            CycleTemplate(
                category=Category.leads, name="Leads", kpi_name="Quote", kpi_unit="%", kpi_direction=KpiDirection.higher
            )
        )
        owner_membership = session.scalars(select(Membership).where(Membership.user_id == owner.id)).one()
        team.invite(session, org, owner_membership, f"neu-{org.id}@example.com", Role.member)
        cancelled = team.invite(session, org, owner_membership, f"weg-{org.id}@example.com", Role.viewer)
        team.cancel(session, cancelled, owner_membership)
        session.flush()
        trends.recompute(session)
        record(session, "organization.updated", actor_id=member.id, object_type="organization", object_id=org.id)
        session.flush()
    # The send log names the organization only inside its keys.
    for user in (owner, member):
        sendlog.claim(session, user.id, welcome.KIND, str(org.id))
        sendlog.claim(session, user.id, kind_for(org.id), "2026-W48")
    sendlog.claim(session, owner.id, export_mail.KIND, sendlog.org_period(org.id, 1))
    sendlog.claim(session, member.id, token_mail.KIND, sendlog.org_period(org.id, 1))
    rich.reminder_keys = [
        (owner.id, f"{KIND_PREFIX}missing_baseline", f"{rich.cycle_ids[0]}:2026-11-20"),
        (member.id, f"{KIND_PREFIX}overdue_prototype", f"{rich.cycle_ids[3]}:2026-11-27"),
    ]
    for key in rich.reminder_keys:
        sendlog.claim(session, *key)
    rich.reminder_keys.append(gone_key)
    # Work recorded outside the organization's context that still names it.
    session.add(OutboxMessage(organization_id=None, task_name="engpass.test.noop", kwargs={"org_id": org.id}))
    rich.other = _consulting_partner(session, make_user, rich, kind)
    session.commit()
    return rich


def _consulting_partner(session: Any, make_user: Any, rich: Rich, kind: OrgKind) -> Organization:
    """The other side of a consultant's access: a consultancy with access to this company, or a client
    of this consultancy; either way with a request, an invitation code and a consultant's audit event."""
    org = rich.org
    if kind == OrgKind.company:
        partner = create_organization(session, f"Beratung von {org.name}", make_user(), kind=OrgKind.consultancy)
        client, consultancy = org, partner
    else:
        partner = create_organization(session, f"Kunde von {org.name}", make_user(), kind=OrgKind.company)
        client, consultancy = partner, org
    consulting.invitation_code(session, consultancy)
    consulting.request_access(session, consultancy, client.slug, AccessLevel.read, "Bitte", None)
    consulting.grant(session, client, consultancy, AccessLevel.edit, None)
    # A consultant at work inside the client: the client's audit log names the consultancy it came through.
    with tenancy.tenant_context(session, client.id):
        acting_via(session, client.id, consultancy.id)
        record(session, "organization.updated", actor_id=None)
        session.flush()
        session.info.pop(VIA_KEY)
    return partner
