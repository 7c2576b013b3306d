"""What the cycle page and the section forms say about each stage of the method, and the next step."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from engpass.cycles.models import Stage

GUIDANCE = {
    Stage.bottleneck: _l(
        "Name the one bottleneck that slows growth most – not a tool, not a pilot. Say why it is the "
        "biggest lever. Then quantify the status quo: without numbers, nothing can be proven later."
    ),
    Stage.baseline: _l(
        "Measure the process as it is today: hours per week, cost, every step, and one KPI with its "
        "baseline value. These numbers are your later proof. Only then choose a solution."
    ),
    Stage.solution: _l(
        "Choose the smallest solution with the largest effect. Better than the status quo is enough. "
        "Estimate the effort honestly: it decides the payback."
    ),
    Stage.prototype: _l(
        "Build a working prototype in two to four weeks, not six months. Keep the target date. "
        "Start measuring as soon as it runs."
    ),
    Stage.result: _l(
        "Measure the effect against the baseline, regularly and with the same KPI. The measured numbers "
        "are your internal business case. When they are clear, decide."
    ),
    Stage.decided: _l(
        "Scale what works, iterate what almost works, drop what does not – and write down why. "
        "Then name the next bottleneck: strategy is this loop, repeated."
    ),
}

NEXT_ACTION: dict[Stage, tuple[str, Any]] = {
    Stage.bottleneck: ("cycles.baseline", _l("Quantify the status quo")),
    Stage.baseline: ("cycles.solution", _l("Choose the simplest solution")),
    Stage.solution: ("cycles.prototype", _l("Start the prototype")),
    Stage.prototype: ("cycles.measurement_new", _l("Enter a measurement")),
    Stage.result: ("cycles.decision", _l("Decide")),
    Stage.decided: ("cycles.next_cycle", _l("Next bottleneck")),
}
