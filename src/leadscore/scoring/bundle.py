"""The scorer's bundle: one folder of plain files (JSON, YAML, LightGBM text) that the pipeline
stages fill in turn and every way of scoring reads.

The pipeline builds it in ``data/model``; ``export`` copies it into the artifact.
"""

FEATURES_FILE = "features.json"  # featurize: feature options and the schema mapping
ENCODER_FILE = "encoder.json"  # train: category vocabularies
BOOSTER_FILE = "model.txt"  # train: the LightGBM booster, in its text format
FIT_RULES_FILE = "fit_rules.yaml"  # calibrate: the fit rules as trained with
CALIBRATION_FILE = "calibration.json"  # calibrate: blend, calibrator and thresholds
DRIFT_FILE = "drift_reference.json"  # export: the training window's score and feature profile
METADATA_FILE = "metadata.json"  # export: version, data fingerprint, params, metrics, libraries
SIGNATURE_FILE = "metadata.sig"  # export, with a signing key: see scoring.signing
INPUT_SCHEMA_FILE = "input_schema.json"  # export: the columns the artifact reads
COMPILED_DIR = "compiled"  # export: the booster compiled to machine code (see scoring.compiled)
