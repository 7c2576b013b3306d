"""The HTTP side of .ci/container-test's walk through the containers, one phase per call:

- ``signup``: sign up through the form (prints the new organization's slug); the welcome e-mail, sent by a
  worker through the broker, arrives in the SMTP sink's maildir.
- ``cycles TOKEN``: a cycle through the API, up to a prototype that is overdue (the digest's to-do).
- ``dashboard``: log in through the form (CSRF token from the page); the dashboard and the cycle's page show it.
- ``digest``: the weekly digest for the organization arrives in the SMTP sink.
- ``traffic STOP_FILE``: GET /login in a loop until STOP_FILE exists; prints requests, refused, failed, the
  slowest answer's and the loop's seconds.

Settings from the environment: CI_BASE_URL, CI_MAILDIR, CI_EMAIL, CI_PASSWORD, CI_COMPANY.
"""

from __future__ import annotations

import mailbox
import os
import re
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from email.header import decode_header, make_header
from email.message import Message
from typing import Any

import requests

BASE = os.environ["CI_BASE_URL"]
EMAIL = os.environ["CI_EMAIL"]
PASSWORD = os.environ["CI_PASSWORD"]
COMPANY = os.environ["CI_COMPANY"]
CYCLE = {"title": "Angebote dauern 9 Tage", "category": "quoting"}
BASELINE = {
    "hours_per_week": 14,
    "kpi_name": "Dauer",
    "kpi_unit": "Tage",
    "kpi_direction": "lower",
    "kpi_baseline": "9",
    "kpi_target": 4,
}
SOLUTION = {"solution_what": "Vorlage", "solution_type": "other", "effort_days": 6, "one_off_cost": "100"}
WAIT_SECONDS = 90
# A replica's workers load the app after its port is open; on a busy 2-core machine that takes a while.
TIMEOUT = 30
# The request loop's: a request slower than this counts as failed.
TRAFFIC_TIMEOUT = 10


class WalkFailed(Exception):
    pass


def wait_for(what: str, check: Callable[[], Any]) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(1)
    raise WalkFailed(f"gave up after {WAIT_SECONDS} s waiting for {what}")


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise WalkFailed(message)


def csrf_token(page: requests.Response) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    expect(match is not None, f"no CSRF token on {page.url}")
    return match.group(1)


def mail(subject_part: str) -> Message | None:
    """The sink's first message to EMAIL whose subject contains ``subject_part``."""
    for message in mailbox.Maildir(os.environ["CI_MAILDIR"], create=False):
        # Non-ASCII subjects (the digest's) arrive encoded (RFC 2047).
        subject = str(make_header(decode_header(message["Subject"] or "")))
        if EMAIL in str(message["To"]) and subject_part in subject:
            return message
    return None


def signup() -> None:
    browser = requests.Session()
    page = browser.get(f"{BASE}/signup", timeout=TIMEOUT)
    form = {"csrf_token": csrf_token(page), "name": "Ines Technik", "email": EMAIL, "company": COMPANY}
    response = browser.post(
        f"{BASE}/signup", data={**form, "password": PASSWORD}, timeout=TIMEOUT, allow_redirects=False
    )
    expect(response.status_code == 302, f"sign-up answered {response.status_code}: {response.text[:500]}")
    slug = re.search(r"/o/([^/]+)/", response.headers["Location"]).group(1)
    welcome = wait_for("the welcome e-mail in the SMTP sink", lambda: mail(""))
    print(f"welcome e-mail: {welcome['Subject']}", file=sys.stderr)
    print(slug)


def cycles(token: str) -> None:
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {token}"

    def call(method: str, url: str, expected: int = 200, **kwargs: Any) -> dict[str, Any]:
        answer = api.request(method, f"{BASE}/api/v1{url}", timeout=TIMEOUT, **kwargs)
        expect(answer.status_code == expected, f"{method} {url}: {answer.status_code} {answer.text[:500]}")
        return answer.json()

    cycle_id = call("POST", "/cycles", 201, json=CYCLE)["id"]
    call("PATCH", f"/cycles/{cycle_id}", json=BASELINE)
    call("PATCH", f"/cycles/{cycle_id}", json=SOLUTION)
    # A fresh organization has no past week to report on; an overdue prototype puts a to-do in its digest.
    started = {"prototype_start": (date.today() - timedelta(days=40)).isoformat()}
    expect(call("PATCH", f"/cycles/{cycle_id}", json=started)["stage"] == "prototype", "no prototype stage")
    print(f"cycle {cycle_id} created, its prototype overdue", file=sys.stderr)


def dashboard() -> None:
    browser = requests.Session()
    login = browser.get(f"{BASE}/login", timeout=TIMEOUT)
    response = browser.post(
        f"{BASE}/login", data={"csrf_token": csrf_token(login), "email": EMAIL, "password": PASSWORD}, timeout=TIMEOUT
    )
    expect(response.status_code == 200, f"login answered {response.status_code}")
    slug = re.search(r"/o/([^/]+)/", response.url)
    expect(slug is not None, f"login did not land in an organization but on {response.url}")
    page = browser.get(f"{BASE}/o/{slug.group(1)}/", timeout=TIMEOUT)
    expect(page.status_code == 200 and COMPANY in page.text, f"dashboard answered {page.status_code}")
    listing = browser.get(f"{BASE}/o/{slug.group(1)}/cycles", timeout=TIMEOUT)
    expect(CYCLE["title"] in page.text + listing.text, "the cycle is neither on the dashboard nor in the list")
    print(f"logged in, dashboard of {COMPANY} shows the cycle", file=sys.stderr)


def digest() -> None:
    received = wait_for("the digest e-mail in the SMTP sink", lambda: mail(f"{COMPANY}:"))
    print(f"digest e-mail: {make_header(decode_header(received['Subject']))}", file=sys.stderr)


def traffic(stop_file: str) -> None:
    """Requests one after the other until ``stop_file`` exists; a refused or failed one is counted, not fatal.

    Prints the requests, the refused, the failed, the slowest answer's seconds and the loop's seconds."""
    total = refused = failed = 0
    slowest = 0.0
    started = time.monotonic()
    while not os.path.exists(stop_file):
        total += 1
        sent = time.monotonic()
        try:
            answer = requests.get(f"{BASE}/login", timeout=TRAFFIC_TIMEOUT)
            if answer.status_code != 200:
                failed += 1
                print(f"request {total}: {answer.status_code} {answer.text[:300]!r}", file=sys.stderr)
        except requests.ConnectionError as error:
            refused += 1
            print(f"request {total}: {error}", file=sys.stderr)
        except requests.RequestException as error:
            failed += 1
            print(f"request {total}: {error!r}", file=sys.stderr)
        slowest = max(slowest, time.monotonic() - sent)
        time.sleep(0.05)
    print(f"{total} {refused} {failed} {slowest:.2f} {time.monotonic() - started:.0f}")


def main() -> None:
    phase, *args = sys.argv[1:]
    phases: dict[str, Callable[..., None]] = {
        "signup": signup,
        "cycles": cycles,
        "dashboard": dashboard,
        "digest": digest,
        "traffic": traffic,
    }
    try:
        phases[phase](*args)
    except (WalkFailed, requests.RequestException) as error:
        sys.exit(f"walk {phase}: {error}")


if __name__ == "__main__":
    main()
