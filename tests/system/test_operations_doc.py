"""docs/operations.md cannot drift from what CI runs: every command in its shell blocks is a line of
.ci/container-test, the script that runs the container deployment for real. The doc speaks to an operator
(`docker compose -f deploy/docker-compose.yml`, `deploy/.env`); the script reaches the same Compose file
through its function `compose`, which adds CI's override, and fills in a copy of the env example of its own.
Those two spellings are the only ones translated."""

from __future__ import annotations

import re

import pytest

from engpass.settings import REPO_ROOT

REPO = REPO_ROOT
DOC = REPO / "docs" / "operations.md"
CI_SCRIPTS = (REPO / ".ci" / "container-test",)
# The operator's spelling → the script's.
TRANSLATIONS = {
    "docker compose -f deploy/docker-compose.yml": "compose",
    "deploy/.env": '"$ENV_FILE"',
}
ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=\S*$")


def logical_lines(text: str) -> list[str]:
    """Lines with their backslash continuations joined and runs of blanks collapsed."""
    joined = re.sub(r"\\\n\s*", " ", text)
    return [" ".join(line.split()) for line in joined.splitlines()]


def strip_comment(line: str) -> str:
    """Drops a shell comment: a `#` at the start or after a blank (`${x#y}` and URLs' fragments stay)."""
    return re.split(r"(?:^|\s)#", line, maxsplit=1)[0].strip()


def doc_commands() -> list[str]:
    blocks = re.findall(r"^```(?:sh|bash|shell)\n(.*?)^```", DOC.read_text(), re.MULTILINE | re.DOTALL)
    commands = []
    for block in blocks:
        for line in logical_lines(block):
            command = strip_comment(line)
            if command and not ASSIGNMENT.match(command):
                commands.append(command)
    return commands


def ci_lines() -> list[str]:
    return [line for script in CI_SCRIPTS for line in logical_lines(script.read_text())]


def as_ci_runs_it(command: str) -> str:
    for operator, ci in TRANSLATIONS.items():
        command = command.replace(operator, ci)
    return command


def test_the_doc_has_a_command_for_each_operation() -> None:
    commands = doc_commands()
    text = "\n".join(commands)
    for operation in ("up -d", "docker build", "engpass db backup", "engpass db restore", "--scale web="):
        assert operation in text, operation
    headings = re.findall(r"^## (.+)$", DOC.read_text(), re.MULTILINE)
    for section in ("Docker Compose (one machine)", "Backups", "Restore", "Upgrades", "Scaling"):
        assert section in headings
    assert "(kubernetes.md)" in DOC.read_text()


@pytest.mark.parametrize("command", doc_commands())
def test_every_documented_command_is_run_by_ci(command: str) -> None:
    wanted = as_ci_runs_it(command)
    assert any(wanted in line for line in ci_lines()), f"{command!r} is not run by {', '.join(map(str, CI_SCRIPTS))}"


def test_a_command_ci_does_not_run_is_caught() -> None:
    assert not any(
        as_ci_runs_it("docker compose -f deploy/docker-compose.yml up -d --scale web=9") in line for line in ci_lines()
    )
    assert strip_comment('install -d "$DIR"   # the image\'s user') == 'install -d "$DIR"'
    assert logical_lines("a \\\n   b") == ["a b"]
