"""Mappers (embedding models)."""

from raytrec.mappers.base import ItemModel, Mapper, MapperOutput

__all__ = ["ItemModel", "Mapper", "MapperOutput"]
