"""Sending again what a temporary failure or a dead worker left unsent.

A beat task (``engpass.notifications.resend``, every few minutes) calls ``resend_due``: every
send-log row that ``claim()`` would hand out again goes to the function that builds that kind
of mail, which claims the key itself — so two sweeps, or a sweep and a late delivery of the
original task, still send it once. Each feature declares the resenders of its kinds in its ``feature.py``
(``Feature.resenders``), and ``RESENDERS`` is what they declare; a kind without one is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.orm import Session

from engpass import features
from engpass.feature import load
from engpass.notifications import sendlog
from engpass.notifications.models import SendLog

log = logging.getLogger(__name__)

Resender = Callable[[Session, SendLog], bool]

# Keyed by a kind, or by the part of a kind up to and including its first dot ("reminder." for every
# reminder rule, "digest." for every organization's digest): what the features declare.
RESENDERS: dict[str, Resender] = {kind: load(reference) for kind, reference in features.resenders().items()}


def resender_for(kind: str) -> Resender | None:
    if kind in RESENDERS:
        return RESENDERS[kind]
    prefix, dot, _rest = kind.partition(".")
    return RESENDERS.get(prefix + dot) if dot else None


def resend_due(session: Session, *, limit: int = 100) -> int:
    """Send the due rows again; how many were sent."""
    sendlog.give_up_abandoned(session)
    entries = sendlog.due(session, limit=limit)
    session.commit()
    sent = 0
    for entry in entries:
        resend = resender_for(entry.kind)
        if resend is None:
            log.warning("no resender for send-log kind %r (row %s)", entry.kind, entry.id)
            continue
        sent += bool(resend(session, entry))
    return sent
