"""Where one online request's time goes, part by part, against a bare predict of the same lead.

    python benchmarks/online_profile.py [--model models/lead_scorer] [--data data/raw] [--n 500]

In one process, for ``--n`` of the demo's most recent leads (the bodies ``online.py`` sends),
each part of ``POST /score`` is timed on its own, median milliseconds per request:

- the app's own work for a request, without HTTP: parsing the body, ``_score`` and the answer
  as JSON (FastAPI's encoder);
- parsing the body into the request model (pydantic, generated from the artifact's contract);
- within it, ``Scorer.featurize`` (the request's columns into features) and ``Scorer.score``
  (encoding, model, blend, calibration, band, reasons) one after the other.

The baseline is the bare predict a minimal server would do: the artifact's own predictor on the
lead's already-built feature row. Each part is printed with its ratio to it; writes
benchmarks/results/online_profile.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from fastapi.encoders import jsonable_encoder
from online import AS_OF, request_bodies
from recording import RESULTS, comparison, load_average, record

from leadscore.api.app import _column, _moments, _score
from leadscore.api.reload import load_model
from leadscore.api.requests import RequestBase, RequestModels, request_models
from leadscore.scoring.scorer import Scorer

PARTS = (
    "parse, _score and JSON answer (ms)",
    "parse the body (ms)",
    "Scorer.featurize (ms)",
    "Scorer.score (ms)",
    "bare predict of the row (ms)",
)


def _timed(action: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    out = action(*args)
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("models/lead_scorer"))
    parser.add_argument("--data", type=Path, default=Path("data/raw"))
    parser.add_argument("--n", type=int, default=500)
    args = parser.parse_args()
    load = load_average()
    bodies, _ = request_bodies(args.data, args.n, AS_OF)
    loaded = load_model(str(args.model))
    scorer = loaded.scorer
    models = request_models(scorer.schema)
    parsed = [models.score.model_validate_json(b) for b in bodies]

    def whole(i: int) -> str:
        answer = _score(scorer, models, [models.score.model_validate_json(bodies[i])])
        return json.dumps(jsonable_encoder(answer))

    for i in range(20):  # warm-up, on leads not measured: first calls
        whole(i)
    # the whole on every other lead, its parts one after another on the leads between (alternate
    # ones, as the newest leads have the fewest events)
    half, other = range(20, args.n, 2), range(21, args.n, 2)
    times: dict[str, list[float]] = {name: [] for name in PARTS}
    for i in half:
        times[PARTS[0]].append(_timed(whole, i)[0])
    for i in other:
        times[PARTS[1]].append(_timed(models.score.model_validate_json, bodies[i])[0])
        seconds, features = _timed(_featurize, scorer, models, parsed[i])
        times[PARTS[2]].append(seconds)
        times[PARTS[3]].append(_timed(scorer.score, features)[0])
        times[PARTS[4]].append(_timed(scorer.predictor.predict, scorer.encoder.matrix(features))[0])
    median = {name: statistics.median(t) * 1000 for name, t in times.items()}
    bare = median.pop(PARTS[4])
    figures = [comparison(name, ms, PARTS[4], bare) for name, ms in median.items()]
    result = {"leads": args.n, "model": str(args.model)}
    record(RESULTS / "online_profile.json", result, figures, load_at_start=load)


def _featurize(scorer: Scorer, models: RequestModels, request: RequestBase) -> dict:
    """``Scorer.featurize`` of one parsed request, its columns made as ``_score`` makes them."""
    lead = {c.name: _column([getattr(request.lead, f)], c) for f, c in models.lead.fields}
    events = {
        c.name: _column([getattr(e, f) for e in request.events], c) for f, c in models.event.fields
    }
    events["lead_id"] = np.array([lead["lead_id"][0]] * len(request.events), dtype=object)
    return scorer.featurize(lead, events, _moments([request.as_of]))


if __name__ == "__main__":
    main()
