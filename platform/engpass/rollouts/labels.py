"""A rollout's codes in words, German first."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from engpass.rollouts.checkpoints import State
from engpass.rollouts.models import Reach

REACH_LABELS = {
    Reach.people: _l("People"),
    Reach.sites: _l("Sites"),
    Reach.processes: _l("Processes"),
}

# What adoption counts: "12 of 40 people reached".
REACHED_UNITS = {
    Reach.people: _l("people"),
    Reach.sites: _l("sites"),
    Reach.processes: _l("processes"),
}

STATE_LABELS = {
    State.upcoming: _l("upcoming"),
    State.open: _l("can be measured now"),
    State.due: _l("due"),
    State.met: _l("measured"),
    State.missed: _l("missed"),
}
