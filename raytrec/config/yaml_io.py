"""The YAML dialect of configs: YAML 1.2 numbers (``1e-3`` is a float), no duplicate keys, and a
bound on what aliases and nesting may make of a small file.

PyYAML shares the object an alias (``*a``) names, so nine lines of nested aliases ("billion
laughs") load in microseconds, but any walk over the config (validation, ``config.yaml``, the
checkpoint's JSON) visits 10^9 values. ``load`` counts the values the document stands for,
without expanding it, and refuses one past ``MAX_VALUES``; a document nested deeper than
Python's stack is refused too. Merge keys (``<<: *base``) copy their mappings' entries, so
nested merges are bounded as they are made, before any copy past ``MAX_VALUES``. An integer
too long for Python to read (4300 digits) names its line.
"""

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


MAX_VALUES = 1_000_000
MERGE = "tag:yaml.org,2002:merge"
MAX_MERGED = MAX_VALUES  # entries the merge keys (<<) of one mapping may copy into it


class RefusedYaml(ValueError):
    """Valid YAML that a config may not be (the message says why and what to do)."""


class DuplicateKeyError(RefusedYaml):
    """A mapping names the same key twice (PyYAML would keep the last silently)."""


class ConfigLoader(yaml.SafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == MERGE:  # merged entries may be overridden; only own keys count
                continue
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise DuplicateKeyError(f"key '{key}' appears twice, on lines {seen[key]} and "
                                        f"{line}; keep one")
            seen[key] = line
        return super().construct_mapping(node, deep=deep)

    def flatten_mapping(self, node: yaml.MappingNode) -> None:
        """PyYAML's merge, after checking what it would copy: each merged mapping's entries
        are copied into this one, so nine nested merges of nine would copy 9^9."""
        merged = [n for key, value in node.value if key.tag == MERGE
                  for n in (value.value if isinstance(value, yaml.SequenceNode) else [value])]
        for sub in merged:
            if isinstance(sub, yaml.MappingNode):
                self.flatten_mapping(sub)
        own = sum(key.tag != MERGE for key, _ in node.value)
        entries = own + sum(len(sub.value) for sub in merged if isinstance(sub, yaml.MappingNode))
        if entries > MAX_MERGED:
            raise RefusedYaml(f"its merge keys (<<) on line {node.start_mark.line + 1} copy "
                              f"{entries:,} entries into one mapping, more than the "
                              f"{MAX_MERGED:,} a config may hold; write the keys out or "
                              "merge fewer mappings")
        super().flatten_mapping(node)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        try:
            return super().construct_yaml_int(node)
        except ValueError:  # past sys.get_int_max_str_digits(): no config value is that long
            digits = sum(c.isdigit() for c in str(node.value))
            raise RefusedYaml(f"line {node.start_mark.line + 1}: a number of {digits} digits "
                              "is longer than Python reads; no config value needs one that "
                              "long, so shorten it") from None


ConfigLoader.add_constructor("tag:yaml.org,2002:int", ConfigLoader.construct_yaml_int)
ConfigLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT,
                                   list("-+0123456789."))


def load(text: str, name: str = "<config>") -> Any:
    """Parse ``text`` read from ``name`` (raises ``yaml.YAMLError`` or RefusedYaml)."""
    stream = io.StringIO(text)
    stream.name = name  # PyYAML's error marks name the stream
    try:
        data = yaml.load(stream, Loader=ConfigLoader)  # a SafeLoader subclass
        values = _count(data, {})
    except RecursionError:
        raise RefusedYaml("it is nested deeper than a config can be; flatten it") \
            from None
    if values > MAX_VALUES:
        raise RefusedYaml(f"its aliases (*name) expand it to {values:.3g} values, more "
                                f"than the {MAX_VALUES:,} a config may hold; write the values "
                                "out or use fewer aliases")
    return data


def _count(node: Any, known: dict[int, int]) -> int:
    """How many values ``node`` stands for, each alias counted in full (memoised by object:
    an alias is the same object as its anchor)."""
    if not isinstance(node, dict | list):
        return 1
    if id(node) not in known:
        known[id(node)] = 0  # an alias inside its own anchor (a cycle) counts once
        children = [*node.keys(), *node.values()] if isinstance(node, dict) else node
        known[id(node)] = 1 + sum(_count(child, known) for child in children)
    return known[id(node)]
