"""Registries: name → factory for problems and solvers.

The problem and solver libraries register their factories here when imported; workflows, the
CLI and sweeps look them up by name, and a user registers their own the same way::

    ms.problem_registry.register("my-loss", my_factory, "my loss on the sphere")
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Entry:
    """A registered factory with its one-line description."""

    name: str
    factory: Callable[..., Any]
    description: str
    #: solvers only: ``batched(problem, starts, **options) -> list[Result]`` running K starts
    #: (the columns of ``starts``) together, as K runs of ``factory(**options)`` would; None if
    #: the solver has no batched form
    batched: Callable[..., Any] | None = None

    def parameters(self) -> dict[str, inspect.Parameter]:
        """The factory's keyword parameters (what ``--param`` may set)."""
        return {
            name: p
            for name, p in inspect.signature(self.factory).parameters.items()
            if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
        }


class Registry:
    """A name → factory table that refuses duplicates and lists the valid names on a miss."""

    def __init__(self, kind: str, builtin_module: str | None = None):
        self.kind = kind
        self._builtin_module = builtin_module
        self._entries: dict[str, Entry] = {}

    def _load_builtins(self) -> None:
        if self._builtin_module is not None:
            module, self._builtin_module = self._builtin_module, None
            importlib.import_module(module)

    def register(
        self,
        name: str,
        factory: Callable[..., Any],
        description: str = "",
        *,
        replace: bool = False,
        batched: Callable[..., Any] | None = None,
    ) -> Callable[..., Any]:
        """Register ``factory`` under ``name``; refuses an existing name unless ``replace``.

        ``batched`` (solvers): the solver's batched multi-start form, which sweeps over starts
        use with ``batch=K`` (see ``Entry.batched``).
        """
        if not isinstance(name, str) or not name:
            raise TypeError(f"{self.kind} name must be a non-empty string, got {name!r}")
        if not callable(factory):
            raise TypeError(f"{self.kind} factory for {name!r} must be callable")
        if batched is not None and not callable(batched):
            raise TypeError(f"batched form of {self.kind} {name!r} must be callable")
        if name in self._entries and not replace:
            raise ValueError(f"{self.kind} {name!r} is already registered (pass replace=True)")
        doc = (inspect.getdoc(factory) or "").splitlines()
        self._entries[name] = Entry(name, factory, description or (doc[0] if doc else ""), batched)
        return factory

    def __call__(self, name: str, description: str = "") -> Callable[[Callable], Callable]:
        """Decorator form of ``register``."""

        def decorate(factory: Callable[..., Any]) -> Callable[..., Any]:
            return self.register(name, factory, description)

        return decorate

    def get(self, name: str) -> Entry:
        """The entry for ``name``; ``ValueError`` listing the known names otherwise."""
        self._load_builtins()
        if name not in self._entries:
            raise ValueError(
                f"unknown {self.kind} {name!r}; "
                f"known {self.kind}s: {', '.join(sorted(self._entries))}"
            )
        return self._entries[name]

    def names(self) -> list[str]:
        """Registered names, sorted."""
        self._load_builtins()
        return sorted(self._entries)

    def __iter__(self) -> Iterator[Entry]:
        self._load_builtins()
        return iter([self._entries[k] for k in sorted(self._entries)])

    def __contains__(self, name: object) -> bool:
        self._load_builtins()
        return name in self._entries


problem_registry = Registry("problem", "manifoldscape.problems")
solver_registry = Registry("solver", "manifoldscape.solvers")
