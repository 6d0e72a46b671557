"""Learning and judging: the LightGBM model and its search, the fit score, the blend and the
calibrator, the band thresholds, the baselines and the held-out metrics."""
