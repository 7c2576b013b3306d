"""The candidates' codes in words, for the forms, the backlog and the audit log."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from engpass.candidates.models import CandidateStatus, DataAvailable, Effort

EFFORT_LABELS = {
    Effort.small: _l("Small"),
    Effort.medium: _l("Medium"),
    Effort.large: _l("Large"),
    Effort.unknown: _l("Unknown"),
}
DATA_LABELS = {
    DataAvailable.yes: _l("Yes"),
    DataAvailable.partly: _l("Partly"),
    DataAvailable.no: _l("No"),
    DataAvailable.unknown: _l("Unknown"),
}
STATUS_LABELS = {
    CandidateStatus.open: _l("Open"),
    CandidateStatus.picked: _l("Picked"),
    CandidateStatus.merged: _l("Merged"),
    CandidateStatus.dismissed: _l("Dismissed"),
}
