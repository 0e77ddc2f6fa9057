"""The plugin contract: every hook raytrec calls, in one file.

A plugin is a module exposed under the ``raytrec`` entry-point group. It implements any of
the hooks below with ``@raytrec.hookimpl`` and calls ``register(name, cls)`` once per
component. raytrec's own components are registered the same way (``raytrec.builtins``).

```python
import raytrec

@raytrec.hookimpl
def register_losses(register):
    register("my-loss", MyLoss)  # MyLoss subclasses raytrec.losses.Loss
```
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("raytrec")
hookimpl = pluggy.HookimplMarker("raytrec")

Register = Callable[[str, type[Any]], None]


@hookspec
def register_samplers(register: Register) -> None:
    """Register negative samplers: subclasses of ``raytrec.samplers.Sampler``."""


@hookspec
def register_mappers(register: Register) -> None:
    """Register mappers (embedding models): subclasses of ``raytrec.mappers.Mapper``."""


@hookspec
def register_losses(register: Register) -> None:
    """Register losses: subclasses of ``raytrec.losses.Loss``."""


@hookspec
def register_retrievers(register: Register) -> None:
    """Register retrieval indexes: subclasses of ``raytrec.retrievers.Retriever``."""


@hookspec
def register_datasets(register: Register) -> None:
    """Register dataset loaders: subclasses of ``raytrec.data.Dataset``."""
