"""The page shown to a signed-in user without any organization."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

public_bp = Blueprint("organizations_public", __name__)


@public_bp.route("/welcome")
@login_required
def no_organization() -> str:
    return render_template("organizations/no_organization.html")
