"""Preparation on the cluster (``data.engine: ray``): the stages of ``raytrec.data.prepare``
as Ray Data stages, writing the same files."""
