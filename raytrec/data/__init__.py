"""Datasets, splits and the on-disk layout of prepared data."""

from raytrec.data.base import DataInfo, Dataset, RawData

__all__ = ["DataInfo", "Dataset", "RawData"]
