"""The logistic-regression baseline reads the same feature table the model does."""

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from leadscore.modeling.baselines import as_model_input, train_logistic_baseline


def test_logistic_baseline_learns_text_and_numbers_with_gaps():
    rng = np.random.default_rng(0)
    n = 4000
    frame = pd.DataFrame(
        {
            "tier": pd.Series(rng.choice(["gold", "silver", None], n), dtype="str"),
            "visits": np.where(rng.random(n) < 0.2, np.nan, rng.poisson(3, n)),
            "empty": np.nan,
        }
    )
    logit = -1 + 1.5 * (frame["tier"] == "gold") + 0.4 * frame["visits"].fillna(0)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    model = train_logistic_baseline(
        frame[:3000], list(frame.columns), y[:3000], min_count=20, seed=0
    )
    unseen = frame[3000:].assign(tier=frame["tier"][3000:].replace("silver", "bronze"))
    p = model.predict_proba(as_model_input(unseen))[:, 1]
    assert roc_auc_score(y[3000:], p) > 0.75
