"""Mappers (embedding models)."""

from raytrec.mappers.base import Mapper

__all__ = ["Mapper"]
