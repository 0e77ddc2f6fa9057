"""Configs: YAML in, a validated plain dict out (what every worker receives)."""

from raytrec.config.load import apply_overrides, read_config, read_yaml, with_defaults
from raytrec.config.validate import validate

__all__ = ["apply_overrides", "read_config", "read_yaml", "validate", "with_defaults"]
