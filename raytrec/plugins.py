"""Plugin loading: entry points in group ``raytrec``, loaded lazily and once.

Environment:
- ``RAYTREC_DISABLE_PLUGINS=a,b`` skips the entry points or distributions named.
- ``RAYTREC_LOAD_PLUGINS=a,b`` loads only those (``builtins`` must be listed to keep them).
"""

from __future__ import annotations

import importlib.metadata as md
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pluggy

from raytrec import hookspecs
from raytrec.errors import PluginError, unknown_name
from raytrec.kinds import BY_NAME, HOOKS, KINDS, ComponentSpec

logger = logging.getLogger(__name__)

GROUP = "raytrec"


@dataclass(frozen=True)
class Entry:
    kind: str
    name: str
    cls: type[Any]
    distribution: str
    version: str
    entry_point: str


class Registry:
    """Every registered component, by kind and name."""

    def __init__(self, entries: list[Entry]) -> None:
        self._by_kind: dict[str, dict[str, Entry]] = {k.name: {} for k in KINDS}
        for e in entries:
            self._by_kind[e.kind][e.name] = e

    def names(self, kind: str) -> list[str]:
        return sorted(self._by_kind[kind])

    def entries(self) -> list[Entry]:
        return [e for k in KINDS for _, e in sorted(self._by_kind[k.name].items())]

    def has(self, kind: str, name: str) -> bool:
        return name in self._by_kind[kind]

    def get(self, kind: str, name: str) -> type[Any]:
        try:
            return self._by_kind[kind][name].cls
        except KeyError:
            raise PluginError(unknown_name(kind, name, self._by_kind[kind])) from None

    def create(self, kind: str, name: str, **kwargs: Any) -> Any:
        return self.get(kind, name)(**kwargs)

    def build(self, kind: str, spec: ComponentSpec) -> Any:
        """The component of ``kind`` (``"mapper"``, ``"dataset"``, ...) that ``spec`` names,
        constructed with its arguments; set-up on data is the caller's (``setup(info)``)."""
        return self.create(kind, spec.name, **spec.kwargs)


def _env_list(var: str) -> set[str] | None:
    raw = os.environ.get(var)
    if raw is None:
        return None
    return {s.strip() for s in raw.split(",") if s.strip()}


def _selected(ep: md.EntryPoint, dist: str) -> bool:
    disabled = _env_list("RAYTREC_DISABLE_PLUGINS") or set()
    only = _env_list("RAYTREC_LOAD_PLUGINS")
    names = {ep.name, dist}
    if names & disabled:
        return False
    return only is None or bool(names & only)


def _make_register(kind: str, dist: str, version: str, ep_name: str, found: list[Entry]):
    base = BY_NAME[kind].base

    def register(name: str, cls: type[Any]) -> None:
        if not isinstance(name, str) or not name:
            raise PluginError(f"plugin '{dist}' registered a {kind} with an empty or "
                              "non-string name")
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise PluginError(
                f"plugin '{dist}' registered {kind} '{name}' as {cls!r}, "
                f"which is not a subclass of {base.__module__}.{base.__qualname__}"
            )
        for other in found:
            if other.kind == kind and other.name == name:
                same = other.distribution == dist
                where = (f"distribution '{dist}' twice" if same
                         else f"distributions '{other.distribution}' and '{dist}'")
                block = ep_name if same else other.entry_point
                raise PluginError(
                    f"{kind} '{name}' is registered by {where}; uninstall one, or block it "
                    f"with RAYTREC_DISABLE_PLUGINS={block}"
                )
        found.append(Entry(kind, name, cls, dist, version, ep_name))

    return register


def _check_selection(eps: list[md.EntryPoint]) -> None:
    """Every name the selection variables give is an installed entry point or distribution."""
    known = {ep.name for ep in eps} | {ep.dist.name for ep in eps if ep.dist is not None}
    for var in ("RAYTREC_DISABLE_PLUGINS", "RAYTREC_LOAD_PLUGINS"):
        unknown = sorted((_env_list(var) or set()) - known)
        if unknown:
            raise PluginError(
                f"{var}={os.environ[var]}: no installed plugin is called "
                f"{', '.join(repr(u) for u in unknown)} (installed: {', '.join(sorted(known))}); "
                f"fix or unset {var}")


def _check_hooks(pm: pluggy.PluginManager, module: Any, dist: str, ep: md.EntryPoint) -> None:
    """A misnamed hook or a hook without ``@raytrec.hookimpl`` would register nothing, and the
    only symptom would be an unknown name later: refuse both, naming the distribution."""
    where = f"plugin '{dist}' (entry point '{ep.name} = {ep.value}')"
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        pm.unregister(module)
        names = ", ".join(HOOKS)
        raise PluginError(f"{where}: {exc}; the hooks are {names}") from None
    marked = {caller.name for caller in pm.get_hookcallers(module) or ()}
    unmarked = [n for n in HOOKS if n not in marked and callable(getattr(module, n, None))]
    if marked and unmarked:
        pm.unregister(module)
        raise PluginError(f"{where}: its {', '.join(unmarked)} lacks @raytrec.hookimpl, so it "
                          "would register nothing; mark it")
    if marked:
        return
    fix = (f"its {', '.join(unmarked)} lacks @raytrec.hookimpl" if unmarked
           else f"it defines none of {', '.join(HOOKS)}")
    raise PluginError(f"{where} registers nothing: {fix}")


def load_registry() -> Registry:
    """Load every selected entry point of group ``raytrec`` and collect its components."""
    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(hookspecs)
    found: list[Entry] = []
    eps = sorted(md.entry_points(group=GROUP), key=lambda e: (e.name != "builtins", e.name))
    _check_selection(eps)
    for ep in eps:
        dist = ep.dist.name if ep.dist is not None else ep.name
        version = ep.dist.version if ep.dist is not None else "unknown"
        if not _selected(ep, dist):
            logger.info("plugin %s (%s) blocked by environment", ep.name, dist)
            continue
        try:
            module = ep.load()
            pm.register(module, name=f"{dist}:{ep.name}")
        except Exception as exc:  # a broken plugin must name itself
            raise PluginError(
                f"plugin '{dist}' (entry point '{ep.name} = {ep.value}') failed to load: "
                f"{type(exc).__name__}: {exc}. Fix or uninstall it, or skip it with "
                f"RAYTREC_DISABLE_PLUGINS={ep.name}"
            ) from exc
        _check_hooks(pm, module, dist, ep)
        for kind in KINDS:
            for impl in getattr(pm.hook, kind.hook).get_hookimpls():
                if impl.plugin_name != f"{dist}:{ep.name}":
                    continue
                register = _make_register(kind.name, dist, version, ep.name, found)
                try:
                    impl.function(register=register)
                except PluginError:
                    raise
                except Exception as exc:
                    raise PluginError(
                        f"plugin '{dist}' raised in {kind.hook}: {type(exc).__name__}: {exc}"
                    ) from exc
    return Registry(found)


_lock = threading.Lock()
_registry: Registry | None = None


def get_registry() -> Registry:
    """The process-wide registry, loaded on first use."""
    global _registry
    with _lock:
        if _registry is None:
            _registry = load_registry()
        return _registry


def reset_registry() -> None:
    """Forget the loaded registry (tests, or after installing a plugin)."""
    global _registry
    with _lock:
        _registry = None


@contextmanager
def registered(components: list[tuple[str, str, type[Any]]],
               distribution: str = "raytrec.testing") -> Iterator[Registry]:
    """The process-wide registry with ``(kind, name, cls)`` components added for the length of
    a with-block, as an installed plugin would add them; the previous registry is put back."""
    global _registry
    base = get_registry()
    added = [Entry(kind, name, cls, distribution, "0", name) for kind, name, cls in components]
    with _lock:
        previous, _registry = _registry, Registry([*base.entries(), *added])
        current = _registry
    try:
        yield current
    finally:
        with _lock:
            _registry = previous
