"""The import pages of a cycle, under ``/o/<slug>/cycles/<id>/measurements/import``.

Upload (the file is checked and kept server-side, ``MeasurementUpload``), then one page that maps the
columns (a GET form, so changing the mapping only reads) and previews every row with its errors, and whose
import button posts the mapping. Who may enter a measurement may import; another organization's cycle or
someone else's upload is a 404.
"""

from __future__ import annotations

from typing import Any

from babel import Locale
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from engpass.cycles.models import Cycle
from engpass.cycles.rules import StageRuleViolation
from engpass.db import db
from engpass.formatting import day, money, number
from engpass.gateway.web import org_blueprint
from engpass.imports import service
from engpass.imports.forms import MappingForm, UploadForm
from engpass.imports.models import MeasurementUpload
from engpass.imports.parsing import UploadError, read_table
from engpass.imports.rows import FIELD_LABELS, FIELDS, guess_mapping
from engpass.organizations.context import current_org
from engpass.organizations.permissions import Action, require_permission

bp = org_blueprint("imports", __name__, "/cycles")


def _cycle_or_404(cycle_id: int) -> Cycle:
    cycle = db.session.get(Cycle, cycle_id)
    if cycle is None:
        abort(404)
    return cycle


def _upload_or_404(cycle: Cycle, upload_id: int) -> MeasurementUpload:
    upload = service.upload_of(db.session(), cycle, upload_id, current_user.id)
    if upload is None:
        abort(404)
    return upload


def _locale() -> Locale:
    return get_locale() or Locale("de")


def _stage_problems(cycle: Cycle) -> list[str]:
    try:
        service.check_stage(cycle)
    except StageRuleViolation as refused:
        return [str(problem) for problem in refused.problems]
    return []


@bp.route("/<int:cycle_id>/measurements/import", methods=["GET", "POST"])
@require_permission(Action.record_measurement)
def upload(cycle_id: int) -> Any:
    cycle = _cycle_or_404(cycle_id)
    form = UploadForm()
    problems = _stage_problems(cycle)
    if problems:
        return render_template("imports/upload.html", cycle=cycle, form=form, problems=problems), 409
    if request.method == "POST":
        if not form.validate_on_submit():
            return render_template("imports/upload.html", cycle=cycle, form=form, problems=[]), 400
        file = form.file.data
        try:
            stored = service.store_upload(db.session(), cycle, current_user.id, file.filename or "", file.read())
        except UploadError as refused:
            db.session.rollback()
            return render_template("imports/upload.html", cycle=cycle, form=form, problems=[refused.message]), 400
        db.session.commit()
        return redirect(url_for("imports.preview", cycle_id=cycle.id, upload_id=stored.id))
    return render_template("imports/upload.html", cycle=cycle, form=form, problems=[])


def _render_preview(cycle: Cycle, upload: MeasurementUpload, form: MappingForm | None, status: int = 200) -> Any:
    try:
        table = read_table(upload.content)
    except UploadError as refused:
        flash(refused.message, "danger")
        return redirect(url_for("imports.upload", cycle_id=cycle.id))
    if form is None:
        form = MappingForm(
            request.args, meta={"csrf": False}, headers=table.headers, guessed=guess_mapping(table.headers)
        )
    problems: list[str] = []
    result = None
    try:
        result = service.preview(db.session(), cycle, upload.file_name, table, form.mapping(), _locale())
    except service.ImportRefused as refused:
        problems.append(refused.message)
    return (
        render_template(
            "imports/preview.html",
            cycle=cycle,
            upload=upload,
            form=form,
            post_form=MappingForm(formdata=None, headers=table.headers, guessed=form.mapping()),
            result=result,
            problems=problems,
            fields=FIELDS,
            field_labels=FIELD_LABELS,
            number=number,
            money=lambda value: money(value, current_org.currency),
            day=day,
        ),
        status,
    )


@bp.route("/<int:cycle_id>/measurements/import/<int:upload_id>", methods=["GET", "POST"])
@require_permission(Action.record_measurement)
def preview(cycle_id: int, upload_id: int) -> Any:
    cycle = _cycle_or_404(cycle_id)
    upload = _upload_or_404(cycle, upload_id)
    if request.method == "GET":
        return _render_preview(cycle, upload, None)
    return _import(cycle, upload)


def _import(cycle: Cycle, upload: MeasurementUpload) -> Any:
    table = read_table(upload.content)
    form = MappingForm(headers=table.headers, guessed={})
    if not form.validate_on_submit():
        flash(_("The form has expired. Please submit it again."), "danger")
        return _render_preview(cycle, upload, form, 400)
    session = db.session()
    try:
        result = service.preview(session, cycle, upload.file_name, table, form.mapping(), _locale())
        count = service.import_rows(session, cycle, result, current_user.id, skip_invalid=form.skip_invalid.data)
    except (service.ImportRefused, StageRuleViolation) as refused:
        db.session.rollback()
        message = refused.message if isinstance(refused, service.ImportRefused) else str(refused.problems[0])
        flash(message, "danger")
        return _render_preview(cycle, upload, form, 409)
    session.delete(upload)
    db.session.commit()
    flash(ngettext("%(num)d measurement imported.", "%(num)d measurements imported.", count), "success")
    return redirect(url_for("cycles.show", cycle_id=cycle.id, _anchor="result"), 303)
