"""The council's read-only view: the dashboard and its CSV, and one request's status by its
reference. No name, address, phone or free text in any of it."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, render_template, request
from sqlalchemy import select
from werkzeug.wrappers import Response

from intake.bootstrap import intake
from intake.council import dashboard
from intake.models import HelpRequest

council = Blueprint("council", __name__)


def period() -> int:
    days = request.args.get("days", "28")
    return int(days) if days.isdecimal() and days.isascii() and int(days) in dashboard.PERIODS else 28


@council.get("/dashboard")
def dashboard_page() -> str:
    return render_template(
        "dashboard.html",
        dashboard=intake().dashboards.numbers(period()),
        periods=dashboard.PERIODS,
        suppress_below=dashboard.SUPPRESS_BELOW,
    )


@council.get("/dashboard.csv")
def dashboard_csv() -> Response:
    numbers = intake().dashboards.numbers(period())
    name = f"hub-dashboard-last-{numbers.days}-days-{datetime.now(UTC):%Y-%m-%d}.csv"
    return Response(
        dashboard.as_csv(numbers),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@council.route("/status", methods=["GET", "POST"])
def status_by_reference() -> tuple[str, int]:
    """One request's status by its reference: no name, address, phone or free text."""
    reference = request.form.get("reference", "").strip().upper()[:16]
    if request.method == "GET":
        return render_template("status.html", reference="", found=None, error=None), 200
    with intake().db.sessions() as session:
        found = session.scalar(select(HelpRequest).where(HelpRequest.reference == reference))
    if found is None:
        error = (
            "Enter a reference, like KXT-4QM" if not reference else "There is no request with that reference"
        )
        return render_template("status.html", reference=reference, found=None, error=error), 404
    return render_template("status.html", reference=reference, found=found, error=None), 200
