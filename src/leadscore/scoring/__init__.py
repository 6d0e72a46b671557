"""Scoring with a trained model: the scorer, its compiled trees, the exported artifact and its
pyfunc face, input drift, and batch scoring on one machine or a Dask cluster."""
