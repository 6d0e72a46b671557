"""Onboarding a new lead table: ``leadscore init`` proposes its mapping from a sample and
writes the config and pipeline that a user then edits.

:mod:`~leadscore.onboarding.profile` and :mod:`~leadscore.onboarding.proposal` are pure
(a sample in, a proposed mapping out); :mod:`~leadscore.onboarding.writing` renders and writes
the files; :mod:`~leadscore.onboarding.dependencies` derives each stage's source files.
"""
