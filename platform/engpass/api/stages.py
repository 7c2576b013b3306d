"""What each stage needs before a cycle may enter it, for the OpenAPI document: generated from the method's
rules (``cycles/rules.py``), so that the document cannot say otherwise than the server.

Per stage, a JSON Schema that a cycle's document (``Cycle``) satisfies exactly when the rules let the cycle
enter that stage; it is the ``x-stage-requirements`` extension of the ``Cycle`` schema and of the stage
change, and the description of the stage field names the fields.
"""

from __future__ import annotations

from typing import Any

from engpass.cycles.models import STAGE_ORDER, Stage
from engpass.cycles.rules import NOT_BLANK, requirements_to_enter

# The field of a cycle's document that says whether it was measured.
MEASURED_FIELD = "measurement_count"


def entry_schema(stage: Stage) -> dict[str, Any]:
    """The JSON Schema of a cycle document that may enter ``stage``."""
    properties: dict[str, Any] = {}
    for requirement in requirements_to_enter(stage):
        properties.update(dict.fromkeys(requirement.texts, {"type": "string", "pattern": NOT_BLANK}))
        properties.update(dict.fromkeys(requirement.values, {"not": {"type": "null"}}))
        if requirement.measured:
            properties[MEASURED_FIELD] = {"type": "integer", "minimum": 1}
    return {"type": "object", "required": list(properties), "properties": properties}


def stage_requirements() -> dict[str, dict[str, Any]]:
    return {stage.value: entry_schema(stage) for stage in STAGE_ORDER}


def summary() -> str:
    """The fields each stage needs, in words, for the stage field's description."""
    lines = []
    for stage in STAGE_ORDER[1:]:
        fields = ", ".join(f"`{name}`" for name in entry_schema(stage)["required"])
        lines.append(f"`{stage.value}`: {fields}")
    return (
        "Entering a stage needs what every stage before it produces (texts not blank, values set, "
        f"`{MEASURED_FIELD}` at least 1); `x-stage-requirements` has it as a JSON Schema per stage. "
        + "; ".join(lines)
        + "."
    )
