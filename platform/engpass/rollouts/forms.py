"""The rollout's forms: opening or changing it, and one measurement of adoption and effect. Numbers are
read in the user's notation by the project's number field and bounded by their columns."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import Length, ValidationError

from engpass.cycles.forms import KPI_BELOW, MEASURED_IN_FUTURE, MONEY_BELOW, NOTE_MAX, DayField
from engpass.form_fields import HOURS_BELOW, NumberField, Required
from engpass.rollouts.labels import REACH_LABELS
from engpass.rollouts.service import BEFORE_START, TARGET_BEFORE_START
from engpass.single_line import SingleLine

DESCRIPTION_MAX = 300
# Whole people, sites or processes: an int column.
COUNT_BELOW = Decimal(10) ** 9


def _max_length(limit: int) -> Length:
    return Length(max=limit, message=_l("At most %(max)d characters.", max=limit))


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class RolloutForm(FlaskForm):
    reach = RadioField(
        _l("It should reach"),
        choices=[SelectChoice(reach.value, label) for reach, label in REACH_LABELS.items()],
        invalid_choice_message=_l("Please choose people, sites or processes."),
    )
    target_description = StringField(
        _l("Who or what"),
        filters=[_strip],
        validators=[_max_length(DESCRIPTION_MAX), SingleLine()],
        render_kw={"placeholder": _l("e.g. the sales team in all three branches")},
    )
    target_count = NumberField(
        _l("Target number"),
        [Required(_l("Please enter how many it should reach."))],
        places=0,
        minimum=Decimal(1),
        below=COUNT_BELOW,
    )
    one_off_cost = NumberField(_l("Cost of scaling, once"), below=MONEY_BELOW)
    running_cost_per_month = NumberField(_l("Running cost of scaling per month"), below=MONEY_BELOW)
    started_on = DayField(_l("Start"), [Required(_l("Please enter the rollout's start."))])
    target_on = DayField(_l("Target date"))

    def validate_target_on(self, field: Field) -> None:
        start = self.started_on.data
        if field.data is not None and start is not None and field.data < start:
            raise ValidationError(TARGET_BEFORE_START)


class RolloutMeasurementForm(FlaskForm):
    measured_on = DayField(_l("Date"), [Required(_l("Please enter the date of the measurement."))])
    reached = NumberField(_l("Reached"), places=0, below=COUNT_BELOW)
    kpi_value = NumberField(_l("KPI value"), places=4, minimum=None, below=KPI_BELOW)
    hours_per_week = NumberField(_l("Hours per week"), below=HOURS_BELOW)
    cost_per_week = NumberField(_l("Cost per week"), below=MONEY_BELOW)
    note = TextAreaField(_l("Note"), filters=[_strip], validators=[_max_length(NOTE_MAX)], render_kw={"rows": 2})

    def __init__(
        self, *args: Any, not_before: date | None = None, not_after: date | None = None, **kwargs: Any
    ) -> None:
        """``not_before``/``not_after``: the days a measurement may fall on (the rollout's start, the
        organization's today); the pages always give them, the service checks the same days again."""
        super().__init__(*args, **kwargs)
        self.not_before = not_before
        self.not_after = not_after
        self.measured_on.render_kw = {
            name: day.isoformat() for name, day in (("min", not_before), ("max", not_after)) if day is not None
        }

    def validate_measured_on(self, field: Field) -> None:
        if field.data is None:
            return
        if self.not_after is not None and field.data > self.not_after:
            raise ValidationError(MEASURED_IN_FUTURE)
        if self.not_before is not None and field.data < self.not_before:
            raise ValidationError(BEFORE_START)

    def validate_reached(self, field: Field) -> None:
        figures = (field, self.kpi_value, self.hours_per_week, self.cost_per_week)
        if not any(f.process_errors for f in figures) and all(f.data is None for f in figures):
            raise ValidationError(_l("Please enter how many are reached, or the effect measured at scale."))
