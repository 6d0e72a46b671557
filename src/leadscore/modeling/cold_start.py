"""Cold start: too few conversions to learn from, so no model is trained.

A gradient-boosted model fitted on a few dozen conversions learns their accidents: it ranks the
next leads little better than chance and its probabilities are overconfident, while it looks
sound on a validation window just as small. Salesforce Einstein Lead Scoring, for one, asks for
at least 120 converted leads before it trains a model on a company's own leads. With fewer than
``train.min_conversions`` (120 by default) converted leads in the training window, leadscore
trains none: the product is the marketers' fit score alone, calibrated on the validation window
(the blend gives the fit score all the weight), and everything downstream (evaluation, report,
artifact, batch, API, pyfunc) says so and works without a model.

The train stage still writes its declared outputs: the category vocabularies, the validation
window's model probabilities (all missing) and, in place of the LightGBM model, a plain-text
note that says why there is none (:func:`no_model_note`). :func:`has_model` tells the two
apart, so the bundle stays one folder of plain files with the same names either way (DVC wants
every declared output written).
"""

from __future__ import annotations

from pathlib import Path

import lightgbm as lgb
import pandas as pd

NO_MODEL = "leadscore: no model (cold start)"  # the first line of model.txt without a model


def training_conversions(features: pd.DataFrame) -> int:
    """Converted leads in the training window of a featurized table (a lead counts once,
    however many of its snapshots converted)."""
    train = features[(features["split"] == "train") & (features["label"] == 1)]
    return int(train["lead_id"].nunique())


def no_model_note(conversions: int, minimum: int) -> str:
    """What ``model.txt`` holds when no model was trained, in words a user opening it reads."""
    return (
        f"{NO_MODEL}\n"
        f"The training window has {conversions} converted leads, fewer than "
        f"train.min_conversions ({minimum}), so no LightGBM model was trained. The product is "
        "the fit score alone, calibrated on the validation window. Add data (or, knowingly, "
        "lower train.min_conversions) to train a model.\n"
    )


def has_model(path: Path) -> bool:
    """Whether ``path`` (a bundle's ``model.txt``) holds a model rather than the cold-start note."""
    with open(path) as handle:
        return handle.readline().rstrip("\n") != NO_MODEL


def read_booster(path: Path) -> lgb.Booster | None:
    """The LightGBM model saved at ``path``, or None where train left the cold-start note."""
    return lgb.Booster(model_file=str(path)) if has_model(path) else None
