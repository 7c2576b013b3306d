"""Forms of the cycle pages: one per section of the method.

Numbers are typed the way the user's language writes them ("12,5" in German) and are bounded
by what the database columns hold, so an absurd figure gets a message next to the field
instead of an error page. Labels and messages are lazy: they follow the request's language.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    Field,
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, StopValidation, ValidationError

from engpass.cycles.models import Decision, KpiDirection, Period, SolutionType, Stage
from engpass.cycles.sponsors import NOT_A_SPONSOR
from engpass.cycles.templates import CATEGORY_LABELS
from engpass.form_fields import HOURS_BELOW, ConfirmDoubts, NumberField, Required
from engpass.single_line import SingleLine

TEXT_MAX = 5000
# A lesson is a few lines, not a report.
LESSON_MAX = 2000
NOTE_MAX = 2000
TITLE_MAX = 200
STEP_ROWS_MAX = 60
BLANK_STEP_ROWS = 3

# Exclusive upper bounds of the columns: Numeric(10,2) hours, Numeric(14,2) money, Numeric(18,4) KPI.
MONEY_BELOW = Decimal(10) ** 12
KPI_BELOW = Decimal(10) ** 14
MINUTES_MAX = 100_000
MEASURED_IN_FUTURE = _l("A measurement cannot be dated after today.")
CHOOSE_A_SPONSOR = _l("Please choose a sponsor: an owner or admin who decides at the end.")
EARLIEST_DATE = date(1990, 1, 1)
LATEST_DATE = date(2100, 12, 31)

STAGE_LABELS = {
    Stage.bottleneck: _l("Bottleneck"),
    Stage.baseline: _l("Status quo"),
    Stage.solution: _l("Solution"),
    Stage.prototype: _l("Prototype"),
    Stage.result: _l("Result"),
    Stage.decided: _l("Decided"),
}
SOLUTION_TYPE_LABELS = {
    SolutionType.email_automation: _l("E-mail automation"),
    SolutionType.lead_scoring: _l("Lead scoring"),
    SolutionType.automated_report: _l("Automated report"),
    SolutionType.assistant: _l("Assistant / chatbot"),
    SolutionType.other: _l("Other"),
}
DIRECTION_LABELS = {
    KpiDirection.lower: _l("Lower is better"),
    KpiDirection.higher: _l("Higher is better"),
}
PERIOD_LABELS = {
    Period.week: _l("per week"),
    Period.month: _l("per month"),
    Period.year: _l("per year"),
}
DECISION_LABELS = {
    Decision.scale: _l("Scale"),
    Decision.iterate: _l("Iterate"),
    Decision.drop: _l("Drop"),
}
DECISION_HINTS = {
    Decision.scale: _l("It works: roll it out for everyone who has this bottleneck."),
    Decision.iterate: _l("Almost: improve the solution and measure again."),
    Decision.drop: _l("It does not pay off: stop it and keep what you learned."),
}


def _id_or_none(value: Any) -> int | None:
    """A picker's id; its empty placeholder is None (nothing chosen yet), not an unreadable value."""
    return None if value is None or value == "" else int(value)


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _max_length(limit: int) -> Length:
    return Length(max=limit, message=_l("At most %(max)d characters.", max=limit))


class DayField(DateField):
    """A calendar day from the browser's date picker (ISO), kept within sensible years."""

    def __init__(self, label: Any = None, validators: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(label, validators, format="%Y-%m-%d", **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        try:
            super().process_formdata([str(valuelist[0]).strip()])
        except ValueError:
            self.data = None
            raise ValueError(_l("Please enter a date, e.g. 2026-11-25.")) from None

    def pre_validate(self, form: Any) -> None:
        if self.process_errors or self.data is None:
            return
        if not (EARLIEST_DATE <= self.data <= LATEST_DATE):
            raise StopValidation(_l("Please enter a date between 1990 and 2100."))


def _choices(labels: Mapping[Any, Any], placeholder: Any = None) -> list[SelectChoice]:
    choices = [SelectChoice("", placeholder)] if placeholder is not None else []
    return choices + [SelectChoice(key.value, label) for key, label in labels.items()]


def _enum_select(label: Any, labels: Mapping[Any, Any], required: Any, placeholder: Any) -> SelectField:
    return SelectField(
        label,
        choices=_choices(labels, placeholder),
        validators=[Required(required)],
        invalid_choice_message=_l("Please choose one of the options."),
    )


def _enum_radio(label: Any, labels: Mapping[Any, Any], message: Any) -> RadioField:
    # Nothing chosen and an unknown value get the same message: choose one of these.
    return RadioField(label, choices=_choices(labels), invalid_choice_message=message)


def _text(label: Any, limit: int, required: Any = None, **kwargs: Any) -> StringField:
    validators = [Required(required)] if required else []
    return StringField(label, filters=[_strip], validators=[*validators, _max_length(limit), SingleLine()], **kwargs)


def _long_text(label: Any, limit: int = TEXT_MAX, required: Any = None, rows: int = 4) -> TextAreaField:
    validators = [Required(required)] if required else []
    return TextAreaField(
        label, filters=[_strip], validators=[*validators, _max_length(limit)], render_kw={"rows": rows}
    )


class BottleneckForm(FlaskForm):
    title = _text(
        _l("The bottleneck"),
        TITLE_MAX,
        _l("Please name the bottleneck."),
        render_kw={"placeholder": _l("e.g. Quotes take 9 days")},
    )
    category = _enum_select(_l("Category"), CATEGORY_LABELS, _l("Please choose a category."), _l("Choose a category …"))
    why = _long_text(_l("Why is this the biggest lever?"))
    owner_id = SelectField(
        _l("Responsible"),
        coerce=int,
        validators=[Required(_l("Please choose who is responsible."))],
        invalid_choice_message=_l("Please choose a member of this organization."),
        invalid_value_message=_l("Please choose a member of this organization."),
    )

    sponsor_id = SelectField(
        _l("Sponsor (the management's backing)"),
        coerce=_id_or_none,
        validators=[Required(CHOOSE_A_SPONSOR)],
        invalid_choice_message=NOT_A_SPONSOR,
        invalid_value_message=CHOOSE_A_SPONSOR,
    )

    def __init__(
        self,
        *args: Any,
        owners: list[SelectChoice] | None = None,
        sponsors: list[SelectChoice] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.owner_id.choices = owners or []
        self.sponsor_id.choices = sponsors or []


class NewCycleForm(BottleneckForm):
    confirm_focus = BooleanField(_l("Yes, I want to work on a second bottleneck at the same time."))


class StepForm(Form):
    """One row of the process; a row left completely empty is ignored."""

    name = _text(_l("Step"), 200, render_kw={"placeholder": _l("e.g. Check the request")})
    role = _text(_l("Role"), 120, render_kw={"placeholder": _l("e.g. Sales")})
    minutes = NumberField(_l("Minutes"), places=0, below=Decimal(MINUTES_MAX + 1))
    remove = BooleanField(_l("Remove"))

    def is_blank(self) -> bool:
        return not (self.name.data or self.role.data or self.minutes.raw_data and self.minutes.raw_data[0].strip())

    def validate_name(self, field: Field) -> None:
        if not field.data and not self.remove.data and not self.is_blank():
            raise ValidationError(_l("Please name this step or clear the row."))


class BaselineForm(ConfirmDoubts, FlaskForm):
    hours_per_week = NumberField(
        _l("Hours per week"),
        [Required(_l("Please enter the hours per week the process takes today."))],
        below=HOURS_BELOW,
    )
    direct_cost_per_week = NumberField(_l("Direct cost per week"), below=MONEY_BELOW)
    kpi_name = _text(_l("KPI"), 120, _l("Please name the KPI."))
    kpi_unit = _text(_l("Unit"), 40, _l("Please enter the KPI's unit."))
    kpi_direction = _enum_radio(
        _l("Direction"), DIRECTION_LABELS, _l("Please choose whether higher or lower is better.")
    )
    kpi_baseline = NumberField(
        _l("Baseline value"),
        [Required(_l("Please enter the KPI's value today."))],
        places=4,
        minimum=None,
        below=KPI_BELOW,
    )
    kpi_target = NumberField(_l("Target value"), places=4, minimum=None, below=KPI_BELOW)
    kpi_value_per_unit = NumberField(_l("Value per unit"), below=MONEY_BELOW)
    kpi_period = SelectField(
        _l("The KPI counts"),
        # Optional: absent from a post reads as the empty choice.
        default="",
        choices=_choices(PERIOD_LABELS, _l("Choose a period …")),
        invalid_choice_message=_l("Please choose one of the options."),
    )
    steps = FieldList(FormField(StepForm), min_entries=0, max_entries=STEP_ROWS_MAX)

    def validate_kpi_period(self, field: Field) -> None:
        if not field.data and self.kpi_value_per_unit.data is not None:
            raise ValidationError(_l("Please choose what span the KPI counts per, so its value can be made yearly."))


class SolutionForm(FlaskForm):
    solution_what = _long_text(_l("The simplest solution"), required=_l("Please describe the solution."), rows=3)
    solution_type = _enum_select(
        _l("Type"), SOLUTION_TYPE_LABELS, _l("Please choose the type of solution."), _l("Choose a type …")
    )
    expected_effect = _long_text(_l("Expected effect"), rows=3)
    effort_days = NumberField(_l("Effort in person-days"), below=HOURS_BELOW)
    one_off_cost = NumberField(_l("One-off cost"), below=MONEY_BELOW)
    running_cost_per_month = NumberField(_l("Running cost per month"), below=MONEY_BELOW)
    forecast_hours_per_week = NumberField(_l("Hours per week after"), below=HOURS_BELOW)
    forecast_kpi = NumberField(_l("KPI value after"), places=4, minimum=None, below=KPI_BELOW)
    forecast_cost_per_week = NumberField(_l("Cost per week after"), below=MONEY_BELOW)


class PrototypeForm(FlaskForm):
    prototype_start = DayField(_l("Start"), [Required(_l("Please enter the start date."))])
    prototype_target = DayField(_l("Target date"))

    def validate_prototype_target(self, field: Field) -> None:
        start = self.prototype_start.data
        if field.data is not None and start is not None and field.data < start:
            raise ValidationError(_l("The target date cannot be before the start."))


class MeasurementForm(ConfirmDoubts, FlaskForm):
    measured_on = DayField(_l("Date"), [Required(_l("Please enter the date of the measurement."))])
    kpi_value = NumberField(
        _l("KPI value"), [Required(_l("Please enter the measured value."))], places=4, minimum=None, below=KPI_BELOW
    )
    hours_per_week = NumberField(_l("Hours per week"), below=HOURS_BELOW)
    cost_per_week = NumberField(_l("Cost per week"), below=MONEY_BELOW)
    note = _long_text(_l("Note"), NOTE_MAX, rows=2)

    def __init__(
        self, *args: Any, not_before: date | None = None, not_after: date | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.not_before = not_before
        self.not_after = not_after
        if not_after is not None:
            # The date picker offers no day after the organization's today.
            self.measured_on.render_kw = {**(self.measured_on.render_kw or {}), "max": not_after.isoformat()}

    def validate_measured_on(self, field: Field) -> None:
        if field.data is not None and self.not_after is not None and field.data > self.not_after:
            raise ValidationError(MEASURED_IN_FUTURE)
        if field.data is not None and self.not_before is not None and field.data < self.not_before:
            raise ValidationError(_l("A result can only be measured from the prototype's start on."))


class DecisionForm(FlaskForm):
    decision = _enum_radio(_l("Decision"), DECISION_LABELS, _l("Please choose: scale, iterate or drop."))
    decision_reason = _long_text(_l("Why?"), required=_l("Please write down why you decided this way."))
    lessons_worked = _long_text(
        _l("What worked?"), LESSON_MAX, _l("Please write down what worked, in a few lines."), rows=3
    )
    lessons_failed = _long_text(
        _l("What did not work?"), LESSON_MAX, _l("Please write down what did not work, in a few lines."), rows=3
    )
    lessons_differently = _long_text(
        _l("What would we do differently?"),
        LESSON_MAX,
        _l("Please write down what you would do differently next time, in a few lines."),
        rows=3,
    )


class StageForm(FlaskForm):
    target = SelectField(
        _l("Move to stage"),
        choices=_choices(STAGE_LABELS),
        invalid_choice_message=_l("Please choose one of the stages."),
    )


class DeleteForm(FlaskForm):
    confirm = BooleanField(
        _l("Yes, delete this cycle with all its measurements."),
        validators=[DataRequired(message=_l("Please confirm that the cycle should be deleted."))],
    )


class ConfirmForm(FlaskForm):
    """A button that only posts (CSRF protected): deleting a measurement or a template."""


class TemplateForm(FlaskForm):
    category = _enum_select(_l("Category"), CATEGORY_LABELS, _l("Please choose a category."), _l("Choose a category …"))
    name = _text(_l("Name"), 120, _l("Please name the template."))
    kpi_name = _text(_l("KPI"), 120, _l("Please name the KPI."))
    kpi_unit = _text(_l("Unit"), 40, _l("Please enter the KPI's unit."))
    kpi_direction = _enum_radio(
        _l("Direction"), DIRECTION_LABELS, _l("Please choose whether higher or lower is better.")
    )
    solutions = _long_text(_l("Typical simplest solutions, one per line"), 2000, rows=4)

    def validate_solutions(self, field: Field) -> None:
        lines = self.solution_lines()
        if len(lines) > 12:
            raise ValidationError(_l("At most %(max)d solutions.", max=12))
        if any(len(line) > 200 for line in lines):
            raise ValidationError(_l("At most %(max)d characters per line.", max=200))

    def solution_lines(self) -> list[str]:
        return [line.strip() for line in (self.solutions.data or "").splitlines() if line.strip()]


def enum_value(cls: Callable[[str], Any], value: str | None) -> Any:
    """The enum member of a validated choice, or None for the empty placeholder."""
    return cls(value) if value else None
