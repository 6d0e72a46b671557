"""How every benchmark reports: each figure beside its same-run baseline and their ratio, as JSON.

The machine is shared, so an absolute time says little on its own: each figure is printed with
the baseline measured in the same run and the ratio of the two, and the result JSON carries the
date, the command and the load average at the start and the end, so two runs can be compared.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (``uptime``'s figures)."""
    return [round(x, 2) for x in os.getloadavg()]


def comparison(name: str, value: float, baseline_name: str, baseline: float) -> dict:
    """One figure with its baseline and ``value / baseline`` (seconds, or whatever unit both
    share), as the JSON records it."""
    ratio = value / baseline if baseline else float("nan")
    return {
        "figure": name,
        "value": round(value, 3),
        "baseline": baseline_name,
        "baseline_value": round(baseline, 3),
        "ratio": round(ratio, 2),
    }


def record(out: Path, result: dict, comparisons: list[dict], *, load_at_start: list[float]) -> None:
    """Print each comparison on one line, then the whole result as JSON, and write it to ``out``."""
    stamped = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": shlex.join([Path(sys.executable).name, *sys.argv]),
        "load_average_at_start": load_at_start,
        **result,
        "comparisons": comparisons,
        "load_average_at_end": load_average(),
    }
    for c in comparisons:
        print(
            f"{c['figure']}: {c['value']:g}  vs  {c['baseline']}: {c['baseline_value']:g}"
            f"  ratio {c['ratio']:g}"
        )
    print(json.dumps(stamped, indent=2))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(stamped, indent=2) + "\n")
