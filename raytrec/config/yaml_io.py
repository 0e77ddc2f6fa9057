"""The YAML dialect of configs: YAML 1.2 numbers (``1e-3`` is a float) and no duplicate keys."""

from __future__ import annotations

import re
from typing import Any

import yaml

# PyYAML follows YAML 1.1, where a float needs a dot: ``1e-3`` would be the string "1e-3".
_FLOAT = re.compile(r"""^(?:
    [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
   |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
   |[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?
   |[-+]?\.(?:inf|Inf|INF)
   |\.(?:nan|NaN|NAN))$""", re.VERBOSE)


class DuplicateKeyError(yaml.MarkedYAMLError):
    """A mapping names the same key twice (PyYAML would keep the last silently)."""


class ConfigLoader(yaml.SafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise DuplicateKeyError(
                    "while reading a mapping", node.start_mark,
                    f"key '{key}' appears twice (first on line {seen[key].line + 1}); keep one",
                    key_node.start_mark)
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


ConfigLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT,
                                   list("-+0123456789."))


def load(text: str) -> Any:
    """Parse ``text`` (raises ``yaml.YAMLError``, including DuplicateKeyError)."""
    return yaml.load(text, Loader=ConfigLoader)  # a SafeLoader subclass
