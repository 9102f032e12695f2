"""Size and memory budgets: refuse work that cannot fit before any of it is done.

Three kinds of limit, each overridable:

* **memory** — ``require_memory(nbytes, what)`` compares what a factory, a picture or a file is
  about to allocate with the memory available to this process: the smallest of the system's
  available memory (``psutil`` or ``/proc/meminfo``), the cgroup's remaining memory
  (``/sys/fs/cgroup/memory.max``) and the address space left under ``RLIMIT_AS``.  Set
  ``MANIFOLDSCAPE_ALLOW_LARGE=1`` (the CLI's ``--allow-large``) or call inside
  ``allowing_large()`` to try anyway;
* **plan sizes** — ``require_plan_size(count, what, limit)`` bounds counts of work items before
  they are planned: trials of a sweep (``MANIFOLDSCAPE_MAX_TRIALS``, default 10⁶), random starts of
  a census (``MANIFOLDSCAPE_MAX_STARTS``, default 10⁵), cells of a picture's grid
  (``MANIFOLDSCAPE_MAX_CELLS``, default 4·10⁶).  Each environment variable sets its limit;
  ``MANIFOLDSCAPE_ALLOW_LARGE=1`` lifts them all;
* **array files** — see ``manifoldscape.boundary.files`` (``MANIFOLDSCAPE_MAX_ARRAY_BYTES``).

A *planning probe* (``planning_probe()``) lets a sweep check every grid point at plan time
without building anything large: inside it, ``require_memory`` checks the size and then raises
``PlanCheckpoint``, which the planner catches — the factory's argument checks, written before its
one ``require_memory`` call, have run, and nothing large was allocated.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import os
import resource
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = [
    "ENV_ALLOW_LARGE",
    "MAX_CELLS",
    "MAX_STARTS",
    "MAX_TRIALS",
    "PlanCheckpoint",
    "PlanLimit",
    "ResourceLimitError",
    "allow_large",
    "allowing_large",
    "available_memory",
    "format_bytes",
    "planning_probe",
    "require_memory",
    "require_plan_size",
]

ENV_ALLOW_LARGE = "MANIFOLDSCAPE_ALLOW_LARGE"
_TRUE = {"1", "true", "yes", "on"}


class ResourceLimitError(ValueError):
    """Work refused because it would exceed the memory or a plan-size limit."""


class PlanCheckpoint(Exception):
    """Raised by ``require_memory`` in ``planning_probe()``: the checks before it passed."""


@dataclass(frozen=True)
class PlanLimit:
    """A named count limit with its environment variable and default."""

    noun: str
    variable: str
    default: int

    def value(self) -> int:
        """The limit in force: the environment variable if set, else the default."""
        text = os.environ.get(self.variable)
        if text is None or not text.strip():
            return self.default
        try:
            value = int(text)
        except ValueError:
            raise ResourceLimitError(
                f"{self.variable} must be a positive integer, got {text!r}"
            ) from None
        if value < 1:
            raise ResourceLimitError(f"{self.variable} must be a positive integer, got {text!r}")
        return value


MAX_TRIALS = PlanLimit("trials", "MANIFOLDSCAPE_MAX_TRIALS", 1_000_000)
MAX_STARTS = PlanLimit("starts", "MANIFOLDSCAPE_MAX_STARTS", 100_000)
MAX_CELLS = PlanLimit("grid cells", "MANIFOLDSCAPE_MAX_CELLS", 4_000_000)

_allow: contextvars.ContextVar[bool] = contextvars.ContextVar("allow_large", default=False)
_probing: contextvars.ContextVar[bool] = contextvars.ContextVar("planning_probe", default=False)


def allow_large() -> bool:
    """Whether the limits are lifted (``MANIFOLDSCAPE_ALLOW_LARGE`` or ``allowing_large()``)."""
    return _allow.get() or os.environ.get(ENV_ALLOW_LARGE, "").strip().lower() in _TRUE


@contextlib.contextmanager
def allowing_large(enabled: bool = True) -> Iterator[None]:
    """Lift (or, with ``enabled=False``, keep) the memory and plan-size limits inside the block."""
    token = _allow.set(bool(enabled))
    try:
        yield
    finally:
        _allow.reset(token)


@contextlib.contextmanager
def planning_probe() -> Iterator[None]:
    """Inside: ``require_memory`` checks its size, then raises ``PlanCheckpoint``."""
    token = _probing.set(True)
    try:
        yield
    finally:
        _probing.reset(token)


def format_bytes(nbytes: float) -> str:
    """A byte count in binary units: ``74.5 GiB``."""
    value = float(nbytes)
    if not math.isfinite(value):
        return "an unbounded amount"
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(value) < 1024 or unit == "PiB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.3g} {unit}"
        value /= 1024
    return f"{value:.3g} EiB"  # pragma: no cover


def _system_available() -> int | None:
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        try:
            return int(psutil.virtual_memory().available)
        except Exception:  # pragma: no cover - exotic platforms
            pass
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _read_int(path: str) -> int | None:
    try:
        with open(path) as handle:
            text = handle.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _cgroup_available() -> int | None:
    limit = _read_int("/sys/fs/cgroup/memory.max")
    if limit is None:
        return None
    used = _read_int("/sys/fs/cgroup/memory.current") or 0
    return max(limit - used, 0)


def _address_space_available() -> int | None:
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    used = 0
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmSize:"):
                    used = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        pass
    return max(soft - used, 0)


def available_memory() -> int | None:
    """Bytes this process may still allocate (the tightest known bound), or None if unknown."""
    bounds = [
        b
        for b in (_system_available(), _cgroup_available(), _address_space_available())
        if b is not None
    ]
    return min(bounds) if bounds else None


def require_memory(nbytes: float, what: str) -> None:
    """Refuse (``ResourceLimitError``) if ``nbytes`` exceed the memory available.

    ``what`` names the parameters that decide the size, e.g. ``"rayleigh(n=100000): A is
    n × n"``.  Lifted by ``MANIFOLDSCAPE_ALLOW_LARGE=1`` or ``allowing_large()``.  Inside
    ``planning_probe()`` it raises ``PlanCheckpoint`` once the size passed.
    """
    try:
        nbytes = float(nbytes)
    except OverflowError:  # a Python int beyond any float: beyond any memory too
        nbytes = math.inf
    if not allow_large():
        available = available_memory()
        if available is not None and nbytes > available:
            raise ResourceLimitError(
                f"{what} needs about {format_bytes(nbytes)} of memory, more than the "
                f"{format_bytes(available)} available; set {ENV_ALLOW_LARGE}=1 (CLI: "
                "--allow-large) to try anyway"
            )
    if _probing.get():
        raise PlanCheckpoint(what)


def require_plan_size(count: int, what: str, limit: PlanLimit) -> None:
    """Refuse (``ResourceLimitError``) a count of work items above ``limit``."""
    if allow_large():
        return
    value = limit.value()
    if count > value:
        raise ResourceLimitError(
            f"{what} is more than the limit of {value} {limit.noun}; set {limit.variable}=N to "
            f"raise it, or {ENV_ALLOW_LARGE}=1 (CLI: --allow-large) to lift every limit"
        )
