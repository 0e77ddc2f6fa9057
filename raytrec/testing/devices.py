"""``check_moves``: after ``to(device)``, nothing a component holds stays where it was.

The loop places every component once, where it places the model; a tensor left behind then
meets the batch on another device at the first step (a GPU run fails, or copies it every
step). A pickled copy goes to torch's ``meta`` device, which every machine has, and every
tensor it holds — attributes, buffers, nested objects, lists, dicts — must be there after.
"""

from __future__ import annotations

import types
from typing import Any

import torch
from torch import nn

from raytrec.testing.common import check_pickles, fail_unless

# Deep enough for a sampler's filter or a tower's encoder; bounded for foreign objects.
_MAX_DEPTH = 8
_OPAQUE = (str, bytes, type, types.ModuleType, types.FunctionType, types.MethodType)


def check_moves(component: Any, advice: str, skip: tuple[type, ...] = ()) -> None:
    """``component`` (set up) moved to ``meta``: ``to`` returns it, and no tensor it holds
    is elsewhere. ``skip``: kinds of held objects placed by someone else (a sampler's
    mapper); ``advice``: how a component of this kind keeps its tensors."""
    copy = check_pickles(component)
    device = torch.device("meta")
    fail_unless(copy.to(device) is copy, component,
                "to(device) must move the component in place and return it")
    left = stranded_tensors(copy, device, skip)
    fail_unless(not left, component,
                f"after to(device), {', '.join(left[:5])} stayed behind: {advice}")


def stranded_tensors(obj: Any, device: torch.device,
                     skip: tuple[type, ...] = ()) -> list[str]:
    """Attribute paths (``filter.keys``, ``tables[0]``) of the tensors ``obj`` holds that are
    not on ``device``."""
    found: list[str] = []
    _walk(obj, "", device, skip, set(), found, 0)
    return found


def _walk(value: Any, path: str, device: torch.device, skip: tuple[type, ...],
          seen: set[int], found: list[str], depth: int) -> None:
    if depth > _MAX_DEPTH or id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, torch.Tensor):
        if value.device != device:
            found.append(path or "the component")
        return
    if isinstance(value, _OPAQUE) or (depth and isinstance(value, skip)):
        return
    for name, item in _children(value):
        child = f"{path}{name}" if name.startswith("[") or not path else f"{path}.{name}"
        _walk(item, child, device, skip, seen, found, depth + 1)


def _children(value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, nn.Module):
        own = ("_parameters", "_buffers", "_modules")
        pairs = [(n, v) for n, v in vars(value).items() if n not in own]
        return [*pairs, *value._parameters.items(), *value._buffers.items(),
                *value._modules.items()]
    if isinstance(value, dict):
        return [(f"[{k!r}]", v) for k, v in value.items()]
    if isinstance(value, list | tuple | set | frozenset):
        return [(f"[{i}]", v) for i, v in enumerate(value)]
    return list(vars(value).items()) if hasattr(value, "__dict__") else []
