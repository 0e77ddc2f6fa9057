"""Configs: YAML in, one validated ``RunConfig`` out (what every worker receives)."""

from raytrec.config.load import apply_overrides, read_config, read_yaml, with_defaults
from raytrec.config.run_config import ComponentSpec, RunConfig
from raytrec.config.validate import validate

__all__ = ["ComponentSpec", "RunConfig", "apply_overrides", "read_config", "read_yaml",
           "validate", "with_defaults"]
