"""The form of a webhook endpoint, and the event types in words."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectChoice, SelectMultipleField, StringField, widgets
from wtforms.validators import DataRequired, Length

from engpass.single_line import SingleLine
from engpass.webhooks.events import EVENT_TYPES
from engpass.webhooks.models import DESCRIPTION_MAX, URL_MAX, EndpointKind

EVENT_LABELS = {
    "cycle.created": _l("A bottleneck was named (new cycle)"),
    "cycle.updated": _l("A cycle was changed"),
    "cycle.stage_changed": _l("A cycle moved to another stage"),
    "cycle.deleted": _l("A cycle was deleted"),
    "decision.recorded": _l("A decision was recorded"),
    "measurement.created": _l("A measurement was added"),
    "measurement.updated": _l("A measurement was changed"),
    "measurement.deleted": _l("A measurement was deleted"),
    "reminders.overdue": _l("Overdue items, once a day"),
    "digest.weekly": _l("The weekly summary"),
}

KIND_LABELS = {
    EndpointKind.webhook: _l("Webhook (signed JSON for another system)"),
    EndpointKind.teams: _l("Microsoft Teams channel (workflow webhook URL)"),
    EndpointKind.slack: _l("Slack channel (incoming webhook URL)"),
}


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class WebhookForm(FlaskForm):
    url = StringField(
        _l("URL"),
        filters=[_strip],
        validators=[
            SingleLine(),
            DataRequired(_l("Please enter the URL that receives the events.")),
            Length(max=URL_MAX, message=_l("At most %(max)d characters.", max=URL_MAX)),
        ],
        render_kw={"placeholder": "https://example.com/engpass-webhook", "inputmode": "url"},
    )
    description = StringField(
        _l("Description"),
        filters=[_strip],
        validators=[
            SingleLine(),
            Length(max=DESCRIPTION_MAX, message=_l("At most %(max)d characters.", max=DESCRIPTION_MAX)),
        ],
        render_kw={"placeholder": _l("e.g. ERP: project costs")},
    )
    events = SelectMultipleField(
        _l("Events"),
        choices=[SelectChoice(name, EVENT_LABELS[name]) for name in EVENT_TYPES],
        validators=[DataRequired(_l("Choose at least one event."))],
        option_widget=widgets.CheckboxInput(),
        widget=widgets.ListWidget(prefix_label=False),
    )
    enabled = BooleanField(_l("Active: send events to this URL"), default=True)


class NewWebhookForm(WebhookForm):
    """Adding an endpoint: its kind is chosen here, once."""

    kind = RadioField(
        _l("Kind"),
        choices=[SelectChoice(kind.value, label) for kind, label in KIND_LABELS.items()],
        default=EndpointKind.webhook.value,
        invalid_choice_message=_l("Please choose a webhook, Teams or Slack."),
    )
