"""The marketer-facing HTML model report: its tables, charts, importance and breakdowns."""
