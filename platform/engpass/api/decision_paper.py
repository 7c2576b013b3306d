"""A cycle's decision paper over the API: the same two-page PDF as the cycle page's button
(``exports.decision_paper``), audited the same way, in the language of ``Accept-Language``."""

from __future__ import annotations

import io

from flask import abort, g, send_file
from werkzeug.wrappers import Response

from engpass.api.blueprint import bp, endpoint
from engpass.cycles.models import Cycle
from engpass.db import db
from engpass.exports.decision_paper import export_decision_paper
from engpass.organizations.permissions import Action

TAG = "Cycles"
PDF = "application/pdf"


@endpoint("/cycles/<int:cycle_id>/decision-paper", "GET", Action.view_cycles, tag=TAG)
@bp.response(200, {"type": "string", "format": "binary"}, content_type=PDF, description="The decision paper.")
def decision_paper(cycle_id: int) -> Response:
    """The cycle's decision paper as a PDF.

    Two A4 pages for the management, the bank or a funding application: what the bottleneck costs, what was
    tried and measured, the effect, the cost of scaling, the payback, the lessons and the sponsor's decision,
    with the business case's figures (docs/exports.md). German, or English with `Accept-Language: en`.
    """
    cycle = db.session.get(Cycle, cycle_id)
    if cycle is None:
        abort(404)
    body, name = export_decision_paper(db.session(), g.org, cycle, g.api_user.id)
    db.session.commit()
    response = send_file(io.BytesIO(body), mimetype=PDF, as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "private, no-store"
    return response
