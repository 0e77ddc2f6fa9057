"""Mappers (embedding models)."""

from raytrec.mappers.base import Mapper, MapperOutput

__all__ = ["Mapper", "MapperOutput"]
