"""Retrieval indexes."""

from raytrec.retrievers.base import Retriever

__all__ = ["Retriever"]
