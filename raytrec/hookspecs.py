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

A hook without ``@raytrec.hookimpl``, or with a name not below, is an error naming the
distribution. What each kind must do is in its base class's docstring ("Writing a ..."):
``raytrec.tasks.Task``, ``raytrec.losses.Loss``, ``raytrec.samplers.Sampler``,
``raytrec.mappers.Mapper`` (``raytrec.mappers.ItemModel`` for another task's models),
``raytrec.retrievers.Retriever``, ``raytrec.data.Dataset``. ``raytrec.testing`` checks it.
A plugin imports these, and everything else it needs of raytrec, from ``raytrec.api``.

Rules for every component:

- **Arguments.** The config section's keys (other than ``name``) are the keyword arguments of
  ``__init__``. Annotate them: raytrec checks a config value against the annotation before
  calling you. Give each a default where one makes sense; one without is required.
- **Argument errors.** ``__init__`` only checks and stores arguments (it runs during config
  validation, before data is read or a run directory exists). Raise
  ``raytrec.errors.ArgumentError(argument, message)`` for a bad argument, e.g.
  ``ArgumentError("margin", f"must be >= 0, got {margin}")``: the user then sees
  ``loss.margin: must be >= 0, got -1``. The same holds for what ``setup(info)`` (and a
  retriever's ``check``) finds against the data. Any other ``ValueError`` (and, from
  ``__init__``, a ``TypeError`` or an ``assert``) is reported under the section
  (``loss: <message>``); name the argument and what to change in its message.
- **Torch modules** (losses, mappers) call ``super().__init__()`` first.
- **Pickling.** Ray ships components to workers by pickling them: keep no open files, locks
  or lambdas on ``self`` before ``setup``.
- **Devices.** raytrec places every component once, after ``setup``, on the training device
  (``train.device``, a GPU on a cluster): ``module.to(device)`` for torch modules, the
  sampler's ``to(device)``; batches then arrive there. Keep a module's tensors as parameters
  or buffers (``register_buffer(name, t, persistent=False)`` for what follows from the data
  and must stay out of checkpoints), a sampler's as attributes (``Sampler`` says how); never
  move state inside ``forward`` or ``sample``. ``raytrec.testing`` checks that nothing stays
  behind.
- **Randomness.** Draw only from a ``generator`` raytrec passes, never from the global torch
  or NumPy generators: the loop seeds it per epoch and rank, so a resumed run draws exactly
  what an uninterrupted one did.
- **Failures** at run time are reported as one line naming the component; the traceback goes
  to ``<run>/logs/`` (and the terminal with ``--debug``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("raytrec")
hookimpl = pluggy.HookimplMarker("raytrec")

Register = Callable[[str, type[Any]], None]


@hookspec
def register_tasks(register: Register) -> None:
    """Register tasks: subclasses of ``raytrec.tasks.Task``. A task is what a run trains on
    and how it is scored (user-item pairs and top-K retrieval; sessions and next-item
    prediction); the other kinds are its parts."""


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
