"""Exports on the web: the cycle table's downloads, the printable business case, the organization's data export.

- ``/o/<slug>/exports/cycles.xlsx`` and ``/exports/<table>.csv``: what the cycle table's filters show (the same
  ``TableQuery``, every page of it), for everyone who sees the cycles. The file is built before the answer
  starts (bounded memory: a spooled temporary file), so a failure is an error page, never half a file.
- ``/o/<slug>/cycles/<id>/business-case/print``: one A4 page to take to a meeting, and
  ``/business-case.pdf`` the same page as a PDF file (``pdf.py``), both from one loader (``sheet.py``).
- ``/o/<slug>/cycles/<id>/decision-paper.pdf``: the two-page decision paper (``decision_paper.py``).
- ``/o/<slug>/exports/data``: an owner asks for a ZIP of all the organization's data, watches its progress
  (``/status``, JSON, polled by ``static/js/export-progress.js``) and downloads it for 24 hours.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from contextlib import nullcontext
from decimal import Decimal
from typing import IO, Any

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from slugify import slugify
from sqlalchemy import select
from werkzeug.wrappers import Response

from engpass.accounts.models import User
from engpass.audit.service import record
from engpass.cycles.chart import kpi_chart
from engpass.cycles.forms import ConfirmForm
from engpass.cycles.models import Cycle
from engpass.cycles.table_query import TableQuery
from engpass.db import db
from engpass.exports import csvfile, pdf, rows, service, workbook
from engpass.exports.decision_paper import export_decision_paper
from engpass.exports.models import DataExport
from engpass.exports.sheet import Sheet, load_sheet
from engpass.extensions import limiter
from engpass.formatting import day, money, number, percent
from engpass.gateway.web import org_blueprint
from engpass.i18n import LANGUAGES, today_in
from engpass.organizations.context import current_org
from engpass.organizations.permissions import Action, require_permission

bp = org_blueprint("exports", __name__)

# Spooled files stay in memory up to this size, then move to disk.
IN_MEMORY = 4 * 1024 * 1024
# Building a file reads every filtered cycle: generous for people, a brake for scripts.
DOWNLOAD_RATE_LIMIT = "60 per hour"
# Each data export is a copy of everything, kept for a day: a few a day are plenty.
REQUEST_RATE_LIMIT = "10 per hour"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _user_key() -> str:
    # The organization routes have a signed-in user (anonymous visitors are sent to the login first).
    return f"user:{current_user.id if current_user.is_authenticated else request.remote_addr}"


def _export_dir() -> str:
    return current_app.extensions["engpass.settings"].export_dir


def _file_name(stem: str, extension: str) -> str:
    today = today_in(current_org.timezone).isoformat()
    return f"{current_org.slug}-{slugify(stem)}-{today}.{extension}"


def _audit(what: str, file_format: str, query: TableQuery, count: int) -> None:
    record(
        db.session,
        "cycles.exported",
        actor_id=current_user.id,
        object_type="export",
        table=what,
        format=file_format,
        filters=query.args(page=None),
        rows=count,
    )
    db.session.commit()


def _send(build: Callable[[IO[bytes]], int], what: str, file_format: str, query: TableQuery, **send: Any) -> Response:
    """Build the file with ``build`` (which returns its number of rows), audit the export, answer with the file.

    The file is complete before the answer starts, so an error is an error page, never half a file. Up to
    ``IN_MEMORY`` it is built and sent from memory; a larger one spills to a temporary file on disk, which the
    response closes (and so deletes) once it is sent.
    """
    out = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY)  # noqa: SIM115  (handed to the response below)
    try:
        count = build(out)
        size = out.tell()
        out.seek(0)
        body: IO[bytes] = out
        if size <= IN_MEMORY:
            body = io.BytesIO(out.read())
            out.close()
    except BaseException:
        out.close()
        raise
    _audit(what, file_format, query, count)
    return _private(send_file(body, as_attachment=True, **send))


def _private(response: Response) -> Response:
    """A file of the organization's data: never kept by a browser or a proxy (send_file says ``no-cache``)."""
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/exports/<table>.csv")
@require_permission(Action.export_cycles)
@limiter.limit(DOWNLOAD_RATE_LIMIT, key_func=_user_key)
def table_csv(table: str) -> Response:
    make = rows.SHEETS.get(table)
    if make is None:
        abort(404)
    query = TableQuery.from_args(request.args)
    sheet = make(db.session, current_org, query)

    def build(out: IO[bytes]) -> int:
        text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
        count = csvfile.write(sheet, text, csvfile.dialect_for(get_locale()))
        text.flush()
        # Detached, the text layer leaves the file open when it goes.
        text.detach()
        return count

    return _send(
        build, table, "csv", query, mimetype="text/csv; charset=utf-8", download_name=_file_name(sheet.title, "csv")
    )


@bp.route("/exports/cycles.xlsx")
@require_permission(Action.export_cycles)
@limiter.limit(DOWNLOAD_RATE_LIMIT, key_func=_user_key)
def table_xlsx() -> Response:
    """One workbook, three sheets: cycles, measurements, business cases."""
    query = TableQuery.from_args(request.args)
    sheets = [make(db.session, current_org, query) for make in rows.SHEETS.values()]
    title = _("%(org)s: cycles", org=current_org.name)

    def build(out: IO[bytes]) -> int:
        return workbook.write(sheets, out, current_org.currency, get_locale(), title=title)

    return _send(build, "workbook", "xlsx", query, mimetype=XLSX, download_name=_file_name(sheets[0].title, "xlsx"))


def _sheet(cycle_id: int) -> Sheet:
    # Through the tenancy layer: another organization's cycle is as missing as one that never existed.
    cycle = db.session.get(Cycle, cycle_id)
    if cycle is None:
        abort(404)
    return load_sheet(db.session(), current_org, cycle)


@bp.route("/cycles/<int:cycle_id>/business-case/print")
@require_permission(Action.view_cycles)
def business_case_print(cycle_id: int) -> str:
    sheet = _sheet(cycle_id)
    currency = current_org.currency
    return render_template(
        "exports/business_case_print.html",
        cycle=sheet.cycle,
        owner=sheet.owner,
        case=sheet.case,
        measurements=sheet.measurements,
        figures=sheet.figures,
        status_quo=sheet.status_quo,
        at_scale=sheet.at_scale,
        chart=kpi_chart(sheet.cycle, sheet.measurements, sheet.today),
        today=sheet.today,
        category_label=sheet.labels.category,
        stage_label=sheet.labels.stage,
        decision_label=sheet.labels.decision,
        direction_label=sheet.labels.direction,
        solution_type_label=sheet.labels.solution_type,
        number=number,
        money=lambda value: money(value, currency),
        percent=percent,
        day=day,
    )


@bp.route("/cycles/<int:cycle_id>/business-case.pdf")
@require_permission(Action.view_cycles)
@limiter.limit(DOWNLOAD_RATE_LIMIT, key_func=_user_key)
def business_case_pdf(cycle_id: int) -> Response:
    """The print page's content as a PDF file, for mail and archives."""
    sheet = _sheet(cycle_id)
    body = pdf.business_case_pdf(
        org=current_org,
        cycle=sheet.cycle,
        owner=sheet.owner,
        measurements=sheet.measurements,
        figures=sheet.figures,
        labels=sheet.labels,
        today=sheet.today,
        status_quo=sheet.status_quo,
        at_scale=sheet.at_scale,
    )
    # Audited like the table's downloads: the figures leave the application.
    record(
        db.session,
        "cycles.exported",
        actor_id=current_user.id,
        object_type="cycle",
        object_id=sheet.cycle.id,
        table="business_case",
        format="pdf",
        rows=1,
    )
    db.session.commit()
    name = _file_name(sheet.cycle.title, "pdf")
    return _private(send_file(io.BytesIO(body), mimetype="application/pdf", as_attachment=True, download_name=name))


@bp.route("/cycles/<int:cycle_id>/decision-paper.pdf")
@require_permission(Action.view_cycles)
@limiter.limit(DOWNLOAD_RATE_LIMIT, key_func=_user_key)
def decision_paper(cycle_id: int) -> Response:
    """Two pages for the management, the bank or a funding application, in the user's language or, asked for
    with ``?lang=en`` or ``?lang=de``, in that one (another value is the user's language)."""
    cycle = db.session.get(Cycle, cycle_id)
    if cycle is None:
        abort(404)
    asked = request.args.get("lang")
    with force_locale(asked) if asked in LANGUAGES else nullcontext():
        body, name = export_decision_paper(db.session(), current_org, cycle, current_user.id)
    db.session.commit()
    return _private(send_file(io.BytesIO(body), mimetype="application/pdf", as_attachment=True, download_name=name))


# --- the organization's data export --------------------------------------------------------------


def _export_or_404(export_id: int) -> DataExport:
    export = db.session.get(DataExport, export_id)
    if export is None:
        abort(404)
    return export


@bp.route("/exports/data", methods=["GET", "POST"])
@require_permission(Action.export_organization)
@limiter.limit(REQUEST_RATE_LIMIT, key_func=_user_key, methods=["POST"])
def data() -> Any:
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        _export, created = service.request_export(db.session, current_user.id)
        db.session.commit()
        if created:
            flash(
                _("The export has started. It usually takes less than a minute; we will also send you an e-mail."),
                "success",
            )
        else:
            flash(_("An export is already being prepared; it appears below as soon as it is ready."), "info")
        return redirect(url_for("exports.data"))
    exports = service.recent(db.session)
    requester_ids = {export.requested_by_id for export in exports if export.requested_by_id is not None}
    names = {}
    if requester_ids:
        stmt = select(User.id, User.name).where(User.id.in_(requester_ids))
        names = {user_id: name for user_id, name in db.session.execute(stmt)}
    return render_template(
        "exports/data.html",
        form=form,
        exports=exports,
        names=names,
        running=any(export.in_progress for export in exports),
        available={export.id for export in exports if service.available_file(export, _export_dir()) is not None},
        percent=lambda value: percent(Decimal(value)),
    )


@bp.route("/exports/data/<int:export_id>/status")
@require_permission(Action.export_organization)
def data_status(export_id: int) -> Response:
    export = _export_or_404(export_id)
    return jsonify(status=export.status.value, progress=export.progress)


@bp.route("/exports/data/<int:export_id>/download")
@require_permission(Action.export_organization)
def data_download(export_id: int) -> Any:
    export = _export_or_404(export_id)
    if export.in_progress or export.file_name is None:
        abort(404)
    path = service.available_file(export, _export_dir())
    if path is None:
        return render_template("exports/expired.html", export=export), 410
    record(
        db.session, "data_export.downloaded", actor_id=current_user.id, object_type="data_export", object_id=export.id
    )
    db.session.commit()
    finished = export.finished_at or export.created_at
    # Translated outside the f-string: Babel's extractor does not look inside them.
    stem = slugify(_("data export"))
    name = f"{current_org.slug}-{stem}-{day(finished, 'yyyy-MM-dd')}.zip"
    return _private(send_file(path, mimetype="application/zip", as_attachment=True, download_name=name))
