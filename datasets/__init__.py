"""Datasets: synthetic ``gaussian``, scikit-learn's bundled real sets, and user files (CSV / NPZ).

Every loader returns a :class:`Dataset` with a seeded train/test split; features are standardized with
training statistics (real sets and files); labels of classification sets are +/-1 (one-vs-rest for
multi-class sets), the regression set's targets are standardized.
"""

from relubench.datasets import files, gaussian, keel, large_sets, network_files, sklearn_sets  # noqa: F401  (loaders register)
from relubench.datasets.base import (
    Dataset,
    DatasetInfo,
    check_dataset_options,
    dataset_doc,
    dataset_info,
    dataset_names,
    load_dataset,
    register_dataset,
)
from relubench.datasets.keel import DATASET_GROUPS

__all__ = [
    "DATASET_GROUPS",
    "Dataset",
    "DatasetInfo",
    "check_dataset_options",
    "dataset_doc",
    "dataset_info",
    "dataset_names",
    "load_dataset",
    "register_dataset",
]
