"""The compiled message catalogs the app reads: ``make install`` builds them, the tests only check for them.

The tests once compiled missing catalogs themselves, which wrote into the source tree from a test run; now a
run without them stops before the first test and says what to do.
"""

from pathlib import Path

from engpass.settings import REPO_ROOT

TRANSLATIONS = REPO_ROOT / "platform" / "engpass" / "translations"


def stale_catalogs() -> list[Path]:
    """Each ``.mo`` that is missing or older than its ``.po``: the files ``make install`` would compile."""
    stale = []
    for po_path in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")):
        mo_path = po_path.with_suffix(".mo")
        if not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime:
            stale.append(mo_path)
    return stale


def catalogs_problem() -> str:
    """Why the suite cannot run with the catalogs as they are, or an empty string."""
    stale = stale_catalogs()
    if not stale:
        return ""
    names = ", ".join(str(path.relative_to(REPO_ROOT)) for path in stale)
    return f"compiled message catalogs missing or older than their .po: {names}; run `make install` first"
