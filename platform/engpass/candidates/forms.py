"""The candidates' forms: proposing takes under a minute — only the title is required, and a number left
empty is "unknown" (never 0). Numbers are read in the user's notation (``NumberField``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import Length

from engpass.candidates.labels import DATA_LABELS, EFFORT_LABELS
from engpass.candidates.models import DataAvailable, Effort
from engpass.cycles.forms import MONEY_BELOW, TEXT_MAX, TITLE_MAX
from engpass.cycles.models import Category
from engpass.cycles.templates import CATEGORY_LABELS
from engpass.form_fields import HOURS_BELOW, NumberField, Required
from engpass.single_line import SingleLine

WHO_MAX = 200
REASON_MAX = 2000
CHOOSE_ONE = _l("Please choose one of the options.")


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _max(limit: int) -> Length:
    return Length(max=limit, message=_l("At most %(max)d characters.", max=limit))


def _choices(labels: Mapping[Any, Any]) -> list[SelectChoice]:
    return [SelectChoice(key.value, label) for key, label in labels.items()]


class CandidateForm(FlaskForm):
    title = StringField(
        _l("What slows you down?"),
        filters=[_strip],
        validators=[Required(_l("Please name the bottleneck.")), _max(TITLE_MAX), SingleLine()],
        render_kw={"placeholder": _l("e.g. Quotes take 9 days")},
    )
    category = SelectField(
        _l("Category"),
        choices=_choices(CATEGORY_LABELS),
        default=Category.other.value,
        invalid_choice_message=CHOOSE_ONE,
    )
    who_feels_it = StringField(
        _l("Who feels it?"),
        filters=[_strip],
        validators=[_max(WHO_MAX), SingleLine()],
        render_kw={"placeholder": _l("e.g. Sales, 4 people")},
    )
    hours_per_week = NumberField(_l("Hours per week (rough)"), below=HOURS_BELOW)
    cost_per_week = NumberField(_l("Cost per week (rough)"), below=MONEY_BELOW)
    effort = SelectField(
        _l("Effort to solve it"),
        choices=_choices(EFFORT_LABELS),
        default=Effort.unknown.value,
        invalid_choice_message=CHOOSE_ONE,
    )
    data_available = SelectField(
        _l("Do we have data for it?"),
        choices=_choices(DATA_LABELS),
        default=DataAvailable.unknown.value,
        invalid_choice_message=CHOOSE_ONE,
    )
    description = TextAreaField(
        _l("Description (optional)"), filters=[_strip], validators=[_max(TEXT_MAX)], render_kw={"rows": 3}
    )

    def data_for_service(self) -> dict[str, Any]:
        return {
            "title": self.title.data,
            "category": Category(self.category.data),
            "who_feels_it": self.who_feels_it.data or "",
            "description": self.description.data or "",
            "hours_per_week": self.hours_per_week.data,
            "cost_per_week": self.cost_per_week.data,
            "effort": Effort(self.effort.data),
            "data_available": DataAvailable(self.data_available.data),
        }


class MergeForm(FlaskForm):
    into = SelectField(
        _l("Merge into"),
        coerce=int,
        validators=[Required(_l("Please choose the candidate to keep."))],
        invalid_choice_message=_l("Please choose an open candidate."),
        invalid_value_message=_l("Please choose an open candidate."),
    )

    def __init__(self, *args: Any, targets: list[SelectChoice] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.into.choices = targets or []


class DismissForm(FlaskForm):
    reason = TextAreaField(
        _l("Why is it dismissed?"),
        filters=[_strip],
        validators=[Required(_l("Please say why this candidate is dismissed.")), _max(REASON_MAX)],
        render_kw={"rows": 3},
    )


class PickForm(FlaskForm):
    confirm_focus = BooleanField(_l("Yes, I want to work on a second bottleneck at the same time."))


class ConfirmForm(FlaskForm):
    """A button that only posts (CSRF protected): reopening."""
