"""Population stability index: zero for the same population, large for a shifted one."""

import numpy as np
import pandas as pd
import pytest

from leadscore.scoring.drift import index, profile, stability


def test_psi_by_hand():
    assert index(np.array([0.5, 0.5]), np.array([0.5, 0.5])) == 0.0
    assert index(np.array([0.5, 0.5]), np.array([0.25, 0.75])) == pytest.approx(
        -0.25 * np.log(0.5) + 0.25 * np.log(1.5)
    )


def test_same_population_is_stable_and_a_shift_is_not():
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"p": rng.beta(2, 8, 20_000), "device": rng.choice(["m", "d"], 20_000)})
    ref = profile(train, ["p", "device"])
    same = pd.DataFrame({"p": rng.beta(2, 8, 5_000), "device": rng.choice(["m", "d"], 5_000)})
    moved = pd.DataFrame({"p": rng.beta(4, 6, 5_000), "device": ["t"] * 5_000})
    assert max(stability(ref, same).values()) < 0.02
    drifted = stability(ref, moved)
    assert drifted["p"] > 0.25 and drifted["device"] > 0.25
    assert stability(ref, moved.iloc[:0]) == {}
