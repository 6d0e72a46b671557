"""The data side: the data contract and its tables (files and databases), row validation, the
leakage audit, point-in-time snapshots and time zones."""
