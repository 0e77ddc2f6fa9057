"""Serving a finished run: export it, recommend from it."""
