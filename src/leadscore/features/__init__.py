"""The feature layer: six families of pure functions over numpy columns (form fill, location,
browser, weekday and time, engagement, channel), the vocabulary encoder and the catalog that
names them."""

from leadscore.features.build import build_features, feature_columns
from leadscore.features.catalog import FAMILIES, FeatureInfo, describe_feature
from leadscore.features.encoder import CategoryEncoder

__all__ = [
    "FAMILIES",
    "CategoryEncoder",
    "FeatureInfo",
    "build_features",
    "describe_feature",
    "feature_columns",
]
