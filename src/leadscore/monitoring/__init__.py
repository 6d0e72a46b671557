"""Knowing when the score stops working: the history of scoring runs, and the realized
performance of past scores once their outcomes have arrived.

- :mod:`~leadscore.monitoring.runs`: one row per scoring night in a runs table beside the scores;
- :mod:`~leadscore.monitoring.outcomes`: the outcomes a table records, and past scores labelled
  with what happened within the horizon after their scoring moment;
- :mod:`~leadscore.monitoring.windows`: realized ranking, calibration and band precision per
  window, and the retrain signal;
- :mod:`~leadscore.monitoring.page`: ``monitoring.json`` and the self-contained page.
"""
