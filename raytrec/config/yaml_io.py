"""The YAML dialect of configs: YAML 1.2 numbers (``1e-3`` is a float) and no duplicate keys."""

from __future__ import annotations

import io
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


class DuplicateKeyError(ValueError):
    """A mapping names the same key twice (PyYAML would keep the last silently)."""


class ConfigLoader(yaml.SafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise DuplicateKeyError(f"key '{key}' appears twice, on lines {seen[key]} and "
                                        f"{line}; keep one")
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


ConfigLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT,
                                   list("-+0123456789."))


def load(text: str, name: str = "<config>") -> Any:
    """Parse ``text`` read from ``name`` (raises ``yaml.YAMLError`` or DuplicateKeyError)."""
    stream = io.StringIO(text)
    stream.name = name  # PyYAML's error marks name the stream
    return yaml.load(stream, Loader=ConfigLoader)  # a SafeLoader subclass
