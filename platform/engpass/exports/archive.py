"""Building one organization's data export: a ZIP of JSON per table, the cycle CSVs and a manifest.

Runs in a worker (``workers/tasks/exports.py``) inside the organization's tenant context. The archive is
written table by table; after each table the progress is committed, so the owner's page can show it.
Each table is read in a transaction of its own: a change made while the export runs shows up in the tables
read after it, never half in one table. The ZIP is written under a temporary name and renamed when complete,
so a half-written file is never offered.

Idempotent: a second delivery of the same task (acks_late) finds the export done and does nothing, or
builds it again from the start if the first delivery died on the way.
"""

from __future__ import annotations

import io
import json
import logging
import os
import secrets
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from alembic.runtime.migration import MigrationContext
from flask_babel import get_locale
from flask_babel import gettext as _

from engpass.accounts.models import User
from engpass.db import utcnow
from engpass.exports import csvfile, rows, tables
from engpass.exports.models import AVAILABLE_FOR, DataExport, ExportStatus
from engpass.i18n import recipient_language
from engpass.organizations.models import Organization

log = logging.getLogger(__name__)

FORMAT = "engpass-organization-export"
# The archive's own layout; raise it when a file or a field changes meaning.
FORMAT_VERSION = 1
CSV_SHEETS = ("cycles", "measurements", "business-cases", "indirect-costs")


def export_path(export_dir: str | Path, file_name: str) -> Path:
    return Path(export_dir) / file_name


@contextmanager
def _reader_language(requester: User | None, org: Organization) -> Iterator[None]:
    """The CSVs and the read-me in the language and time zone of whoever asked for the export."""
    if requester is not None:
        locale, zone = requester.locale, requester.timezone
    else:
        locale, zone = org.locale, org.timezone
    with recipient_language(locale, zone):
        yield


def _write_json(archive: zipfile.ZipFile, name: str, source_rows: Iterator[dict[str, Any]]) -> int:
    """A JSON array with one object per line: valid JSON, and still readable in a text editor."""
    count = 0
    with archive.open(name, "w") as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="\n") as out:
        out.write("[")
        for row in source_rows:
            out.write(",\n" if count else "\n")
            out.write(json.dumps(row, ensure_ascii=False, sort_keys=True))
            count += 1
        out.write("\n]\n")
    return count


def _write_csv(archive: zipfile.ZipFile, name: str, sheet: rows.Sheet) -> int:
    with (
        archive.open(name, "w") as raw,
        io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as out,
    ):
        return csvfile.write(sheet, out, csvfile.dialect_for(get_locale()))


def _schema_revision(session: Any) -> str | None:
    return MigrationContext.configure(session.connection()).get_current_revision()


def _readme(org: Organization, exported_at: str, files: list[dict[str, Any]]) -> str:
    lines = [
        _("Data export of %(org)s from Engpass", org=org.name),
        _("Created %(moment)s (UTC).", moment=exported_at),
        "",
        _("data/*.json: every table of the organization, one object per row, as stored."),
        _("Amounts and figures are strings with a decimal point, times are in UTC (ISO 8601)."),
        _("csv/*.csv: cycles, measurements and business cases, as in the cycle table's exports."),
        _("manifest.json: the format version, the tables with their numbers of rows, and what was left out."),
        "",
    ]
    lines += [f"{entry['path']}: {entry['rows']}" for entry in files]
    return "\r\n".join(lines) + "\r\n"


class _Progress:
    """Commits the share done after each step, in the step's own short transaction."""

    def __init__(self, session: Any, export: DataExport, weights: list[int]) -> None:
        self.session, self.export = session, export
        self.total = max(1, sum(weights))
        self.done = 0

    def step(self, weight: int) -> None:
        self.done += weight
        # 100 only once the file is in place and the export marked done.
        self.export.progress = min(99, self.done * 100 // self.total)
        self.session.commit()


def _build(session: Any, export: DataExport, org: Organization, requester: User | None, out: IO[bytes]) -> int:
    sources = tables.sources()
    counts = [source.count(session, org.id) for source in sources]
    cycle_count = next(c for s, c in zip(sources, counts, strict=True) if s.table == "cycles")
    measurement_count = next(c for s, c in zip(sources, counts, strict=True) if s.table == "measurements")
    item_count = next(c for s, c in zip(sources, counts, strict=True) if s.table == "indirect_cost_items")
    csv_weights = [cycle_count + 1, measurement_count + 1, cycle_count + 1, item_count + 1]
    progress = _Progress(session, export, [c + 1 for c in counts] + csv_weights + [1])
    session.commit()
    exported_at = utcnow().replace(microsecond=0).isoformat()
    files: list[dict[str, Any]] = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for source, count in zip(sources, counts, strict=True):
            path = f"data/{source.table}.json"
            written = _write_json(archive, path, source.rows(session, org.id))
            files.append({"path": path, "table": source.table, "rows": written})
            progress.step(count + 1)
        with _reader_language(requester, org):
            for key, weight in zip(CSV_SHEETS, csv_weights, strict=True):
                sheet = rows.SHEETS[key](session, org, None)
                path = f"csv/{key}.csv"
                files.append({"path": path, "sheet": key, "rows": _write_csv(archive, path, sheet)})
                progress.step(weight)
            readme = _readme(org, exported_at, files)
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "schema_revision": _schema_revision(session),
            "exported_at": exported_at,
            "organization": {"id": org.id, "name": org.name, "slug": org.slug},
            "requested_by": None
            if requester is None
            else {"id": requester.id, "name": requester.name, "email": requester.email},
            "files": files,
            "excluded_tables": tables.EXCLUDED,
            "omitted_columns": tables.OMITTED_COLUMNS,
            "formats": {
                "json": "decimals as strings with a decimal point; times ISO 8601 in UTC; days ISO 8601",
                "csv": "UTF-8 with BOM; separator and decimal sign of the requester's language; ISO dates",
            },
        }
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
        archive.writestr("README.txt", readme.encode("utf-8-sig"))
    session.commit()
    return len(files)


def run(session: Any, export_id: int, export_dir: str | Path) -> DataExport | None:
    """Build the archive of the export ``export_id`` (in the organization in context); None if it is gone."""
    export = session.get(DataExport, export_id)
    if export is None or export.status == ExportStatus.done:
        return export
    org = session.get(Organization, export.organization_id)
    requester = session.get(User, export.requested_by_id) if export.requested_by_id else None
    export.status, export.progress, export.started_at = ExportStatus.running, 0, utcnow()
    session.commit()

    folder = Path(export_dir) / str(org.id)
    folder.mkdir(parents=True, exist_ok=True)
    file_name = f"{org.id}/{secrets.token_urlsafe(24)}.zip"
    final = export_path(export_dir, file_name)
    partial = final.with_name(final.name + ".part")
    try:
        with partial.open("wb") as out:
            _build(session, export, org, requester, out)
        os.replace(partial, final)
    except Exception:
        log.exception("data export %s of organization %s failed", export_id, org.id)
        session.rollback()
        partial.unlink(missing_ok=True)
        export.status = ExportStatus.failed
        session.commit()
        return export
    finished = utcnow()
    export.status, export.progress, export.file_name = ExportStatus.done, 100, file_name
    export.size_bytes = final.stat().st_size
    export.finished_at, export.expires_at = finished, finished + AVAILABLE_FOR
    session.commit()
    return export
