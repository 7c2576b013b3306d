"""The webhook pages under the organization's settings, for its admins and owners: the endpoints, a new one
(its secret shown once), one endpoint's settings, secret rotation, deletion and its delivery log with manual
redelivery. Another organization's endpoint answers 404 like a missing one (the tenancy layer finds none)."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from engpass import task_names
from engpass.accounts.reauth import require_recent_auth
from engpass.db import db
from engpass.gateway.web import org_blueprint
from engpass.organizations.permissions import Action, require_permission
from engpass.outbox.service import enqueue
from engpass.settings import Settings
from engpass.webhooks import delivery, endpoints
from engpass.webhooks.forms import EVENT_LABELS, KIND_LABELS, NewWebhookForm, WebhookForm
from engpass.webhooks.models import EndpointKind, WebhookDelivery, WebhookEndpoint

bp = org_blueprint("webhooks", __name__, "/settings/webhooks")


def _settings() -> Settings:
    return current_app.extensions["engpass.settings"]


def _endpoint_or_404(endpoint_id: int) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        abort(404)
    return endpoint


def _input(form: WebhookForm) -> endpoints.EndpointInput:
    kind = EndpointKind(form.kind.data) if isinstance(form, NewWebhookForm) else EndpointKind.webhook
    return endpoints.EndpointInput(
        form.url.data or "", form.description.data or "", form.events.data or [], form.enabled.data, kind
    )


def _saved(form: WebhookForm, save: Any) -> Any:
    """What ``save`` returns, or None with the refusal on the form's field."""
    try:
        return save(_input(form))
    except endpoints.InvalidEndpoint as exc:
        db.session.rollback()
        message = _("This URL cannot receive webhooks: %(reason)s", reason=exc.message)
        getattr(form, exc.field).errors = [message]
        return None


def _render_index(form: NewWebhookForm, status: int = 200, new_secret: str | None = None) -> tuple[str, int]:
    page = render_template(
        "webhooks/index.html",
        form=form,
        endpoints=endpoints.endpoints(db.session),
        labels=EVENT_LABELS,
        kinds=KIND_LABELS,
        new_secret=new_secret,
    )
    return page, status


@bp.route("/", methods=["GET", "POST"])
@require_permission(Action.manage_webhooks)
@require_recent_auth(methods=("POST",))
def index() -> Any:
    form = NewWebhookForm()
    if not form.validate_on_submit():
        return _render_index(form, 422 if form.errors else 200)
    created = _saved(form, lambda data: endpoints.create_endpoint(db.session, data, _settings(), current_user.id))
    if created is None:
        return _render_index(form, 422)
    db.session.commit()
    if created[1] is None:
        flash(_("The channel was added."), "success")
    # Shown in this response only: never stored readable, never in a cookie or a redirect.
    return _render_index(NewWebhookForm(formdata=None), 201, new_secret=created[1])


def _render_endpoint(
    endpoint: WebhookEndpoint, form: WebhookForm, status: int = 200, new_secret: str | None = None
) -> tuple[str, int]:
    page = render_template(
        "webhooks/endpoint.html",
        endpoint=endpoint,
        form=form,
        deliveries=delivery.log(db.session, endpoint.id),
        labels=EVENT_LABELS,
        kinds=KIND_LABELS,
        new_secret=new_secret,
    )
    return page, status


@bp.route("/<int:endpoint_id>", methods=["GET", "POST"])
@require_permission(Action.manage_webhooks)
def show(endpoint_id: int) -> Any:
    endpoint = _endpoint_or_404(endpoint_id)
    form = WebhookForm(obj=endpoint)
    if not form.validate_on_submit():
        return _render_endpoint(endpoint, form, 422 if form.errors else 200)
    saved = _saved(
        form, lambda data: endpoints.update_endpoint(db.session, endpoint, data, _settings(), current_user.id)
    )
    if saved is None:
        return _render_endpoint(_endpoint_or_404(endpoint_id), form, 422)
    db.session.commit()
    flash(_("The webhook was saved."), "success")
    return redirect(url_for("webhooks.show", endpoint_id=endpoint.id))


@bp.route("/<int:endpoint_id>/rotate", methods=["POST"])
@require_permission(Action.manage_webhooks)
@require_recent_auth(methods=("POST",))
def rotate(endpoint_id: int) -> Any:
    endpoint = _endpoint_or_404(endpoint_id)
    if endpoint.kind != EndpointKind.webhook:
        # Nothing signs a chat channel's messages: there is no secret to show.
        abort(404)
    secret = endpoints.rotate_secret(db.session, endpoint, _settings(), current_user.id)
    db.session.commit()
    return _render_endpoint(endpoint, WebhookForm(obj=endpoint, formdata=None), 200, new_secret=secret)


@bp.route("/<int:endpoint_id>/delete", methods=["POST"])
@require_permission(Action.manage_webhooks)
def delete(endpoint_id: int) -> Response:
    endpoint = _endpoint_or_404(endpoint_id)
    endpoints.delete_endpoint(db.session, endpoint, current_user.id)
    db.session.commit()
    flash(_("The webhook was deleted."), "success")
    return redirect(url_for("webhooks.index"))


@bp.route("/<int:endpoint_id>/deliveries/<int:delivery_id>/redeliver", methods=["POST"])
@require_permission(Action.manage_webhooks)
def redeliver(endpoint_id: int, delivery_id: int) -> Response:
    endpoint = _endpoint_or_404(endpoint_id)
    found = db.session.get(WebhookDelivery, delivery_id)
    if found is None or found.endpoint_id != endpoint.id:
        abort(404)
    try:
        delivery.redeliver(db.session, found, current_user.id)
    except delivery.NotRedeliverable:
        flash(_("This delivery is being sent right now. Try again in a minute."), "error")
        return redirect(url_for("webhooks.show", endpoint_id=endpoint.id))
    enqueue(db.session, task_names.DELIVER_WEBHOOK, delivery_id=found.id)
    db.session.commit()
    flash(_("The delivery is being sent again."), "success")
    return redirect(url_for("webhooks.show", endpoint_id=endpoint.id))
