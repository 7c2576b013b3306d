"""Importing a cycle's measurements from a file: keep the upload, preview it under a mapping, import it.

The preview applies the measurement form's rules to every row — readable values, a date neither after the
organization's today nor before the prototype's start — and flags a date that appears twice in the file or
is measured already. The import adds the valid rows through ``cycles.service.add_measurements`` in the
caller's transaction: one audit event, one trend recompute. By default it refuses while any row has an
error, so that the file is fixed and imported whole; ``skip_invalid`` imports the valid rows alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from babel import Locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from engpass.cycles import service as cycles
from engpass.cycles.models import STAGE_ORDER, Cycle, Measurement, Stage
from engpass.cycles.rules import StageRuleViolation
from engpass.db import utcnow
from engpass.formatting import day
from engpass.imports.models import KEPT_FOR, MeasurementUpload
from engpass.imports.parsing import Table, read_table
from engpass.imports.rows import FIELDS, REQUIRED, Row, read_row

FILE_NAME_MAX = 255


class ImportRefused(ValueError):
    """Nothing was imported; ``message`` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Preview:
    file_name: str
    headers: list[str]
    mapping: dict[str, int | None]
    rows: list[Row]

    @property
    def valid(self) -> list[Row]:
        return [row for row in self.rows if row.ok]

    @property
    def invalid(self) -> list[Row]:
        return [row for row in self.rows if not row.ok]


def check_stage(cycle: Cycle) -> None:
    """Measurements, and so imports, begin with the prototype (``cycles.service.add_measurement``)."""
    if cycle.stage_index() < STAGE_ORDER.index(Stage.prototype):
        raise StageRuleViolation([_l("Measure results once the prototype has started.")])


def store_upload(session: Session, cycle: Cycle, user_id: int, file_name: str, content: bytes) -> MeasurementUpload:
    """Keep a readable file for the next steps, replacing this person's earlier upload for the cycle and
    removing the organization's abandoned ones. Raises UploadError for a file that cannot be read."""
    read_table(content)
    stale = utcnow() - KEPT_FOR
    session.execute(
        delete(MeasurementUpload).where(
            or_(
                MeasurementUpload.created_at < stale,
                (MeasurementUpload.cycle_id == cycle.id) & (MeasurementUpload.uploaded_by_id == user_id),
            )
        )
    )
    upload = MeasurementUpload(
        cycle_id=cycle.id, uploaded_by_id=user_id, file_name=(file_name or "upload")[-FILE_NAME_MAX:], content=content
    )
    session.add(upload)
    session.flush()
    return upload


def upload_of(session: Session, cycle: Cycle, upload_id: int, user_id: int) -> MeasurementUpload | None:
    """The upload, if it is this person's for this cycle (the tenancy layer hides other organizations')."""
    upload = session.get(MeasurementUpload, upload_id)
    if upload is None or upload.cycle_id != cycle.id or upload.uploaded_by_id != user_id:
        return None
    return upload


def check_mapping(headers: list[str], mapping: dict[str, int | None]) -> None:
    """Raises ImportRefused unless the date and the KPI value each have a column, and no column two fields."""
    for name, index in mapping.items():
        if name not in FIELDS or (index is not None and not 0 <= index < len(headers)):
            raise ImportRefused(_("Please choose the columns from the file."))
    if any(mapping.get(name) is None for name in REQUIRED):
        raise ImportRefused(_("Please choose the columns for the date and the KPI value."))
    chosen = [index for index in mapping.values() if index is not None]
    if len(chosen) != len(set(chosen)):
        raise ImportRefused(_("Please choose each column for one field only."))


def preview(
    session: Session, cycle: Cycle, file_name: str, table: Table, mapping: dict[str, int | None], locale: Locale
) -> Preview:
    """Every row read under ``mapping`` with its errors. Raises ImportRefused for an unusable mapping."""
    check_mapping(table.headers, mapping)
    today = cycles.organization_today(session, cycle)
    measured = set(session.scalars(select(Measurement.measured_on).where(Measurement.cycle_id == cycle.id)))
    seen: dict[date, int] = {}
    rows = []
    for number, cells in enumerate(table.rows, start=2):
        row = read_row(number, cells, mapping, locale)
        measured_on = row.values.get("measured_on")
        if measured_on is not None:
            _check_day(row, measured_on, today, cycle.prototype_start, measured, seen)
        rows.append(row)
    return Preview(file_name, table.headers, mapping, rows)


def _check_day(
    row: Row, measured_on: date, today: date, start: date | None, measured: set[date], seen: dict[date, int]
) -> None:
    if measured_on > today:
        row.errors.append(
            _("Date: a measurement cannot be dated after today (%(today)s).", today=day(today)),
        )
    elif start is not None and measured_on < start:
        row.errors.append(_("Date: a result can only be measured from the prototype's start on."))
    if measured_on in measured:
        row.errors.append(_("Date: this cycle already has a measurement on %(day)s.", day=day(measured_on)))
    elif measured_on in seen:
        row.errors.append(_("Date: the same date as in line %(line)d.", line=seen[measured_on]))
    else:
        seen[measured_on] = row.line


def preview_upload(
    session: Session, cycle: Cycle, upload: MeasurementUpload, mapping: dict[str, int | None], locale: Locale
) -> Preview:
    return preview(session, cycle, upload.file_name, read_table(upload.content), mapping, locale)


def import_rows(session: Session, cycle: Cycle, result: Preview, actor_id: int, *, skip_invalid: bool = False) -> int:
    """Add the preview's valid rows in the caller's transaction; how many. Raises ImportRefused while a row
    has an error (unless ``skip_invalid``) or when no row is left, and StageRuleViolation before the
    prototype, like ``cycles.service.add_measurement``."""
    check_stage(cycle)
    if result.invalid and not skip_invalid:
        raise ImportRefused(
            _("Nothing was imported: please correct the rows with errors, or import only the valid rows.")
        )
    if not result.valid:
        raise ImportRefused(_("Nothing was imported: no row is valid."))
    added = cycles.add_measurements(
        session, cycle, [row.values for row in result.valid], actor_id, source=result.file_name
    )
    return len(added)
