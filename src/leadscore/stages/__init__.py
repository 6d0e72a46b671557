"""One module per pipeline stage: read inputs, call the logic, write outputs. No logic here."""
