"""generate: synthetic demo leads, events and the generator's true probabilities."""

from __future__ import annotations

from pathlib import Path

from leadscore.config import GenerateConfig
from leadscore.data.files import write_table
from leadscore.generate import generate_demo


def run(cfg: GenerateConfig, *, out_dir: Path) -> dict:
    data = generate_demo(cfg)
    write_table(data.leads, out_dir / "leads.parquet")
    write_table(data.events, out_dir / "events.parquet")
    write_table(data.truth, out_dir / "truth.parquet")
    return {
        "leads": len(data.leads),
        "events": len(data.events),
        "converted": int(data.leads["converted"].sum()),
    }
