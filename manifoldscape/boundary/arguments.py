"""Checks at the boundary: every user-facing entry point validates its input here.

Each helper raises a ``ValueError`` or ``TypeError`` that names the argument, says what was
expected and what was given.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

Seed = int | np.random.Generator | np.random.SeedSequence | None


def as_generator(seed: Seed, name: str = "seed") -> np.random.Generator:
    """Return a ``numpy.random.Generator`` from an int, a generator, a seed sequence or None."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, np.random.SeedSequence):
        return np.random.default_rng(seed)
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        if seed < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {seed}")
        return np.random.default_rng(int(seed))
    raise TypeError(
        f"{name} must be an int, a numpy.random.Generator, a SeedSequence or None, "
        f"got {type(seed).__name__}"
    )


def seed_as_int(seed: Seed) -> int | None:
    """Return the seed as recorded in a problem's parameters (None for a generator)."""
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return int(seed)
    return None


def require_finite(array: Any, name: str) -> None:
    """Raise ``ValueError`` if ``array`` holds NaN or Inf."""
    values = np.asarray(array)
    if values.dtype.kind in "fc" and not np.all(np.isfinite(values)):
        bad = int(np.size(values) - np.count_nonzero(np.isfinite(values)))
        raise ValueError(f"{name} must be finite, but {bad} of its entries are NaN or Inf")


def as_real_array(value: Any, name: str, ndim: int | None = None) -> np.ndarray:
    """Convert to a finite real float array, refusing complex data and wrong ranks."""
    try:
        array = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be array-like, got {type(value).__name__}") from exc
    if array.dtype.kind == "c":
        if np.any(np.imag(array) != 0):
            raise ValueError(f"{name} must be real, got complex entries")
        array = np.real(array)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric, got dtype {array.dtype}")
    array = array.astype(float)
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {array.shape}")
    require_finite(array, name)
    return array


def require_nonempty(shape: tuple[int, ...], name: str) -> None:
    """Raise ``ValueError`` for an array with a zero extent (a 0 × 0 matrix, say)."""
    if any(extent == 0 for extent in shape):
        raise ValueError(f"{name} must be a non-empty matrix, got shape {tuple(shape)}")


def require_positive_int(value: Any, name: str, minimum: int = 1) -> int:
    """Return ``value`` as an int at least ``minimum``, or raise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def require_options(given: Mapping[str, Any], valid: Iterable[str], where: str) -> None:
    """Refuse unknown option names, listing the valid ones."""
    valid = sorted(valid)
    unknown = sorted(set(given) - set(valid))
    if unknown:
        raise TypeError(
            f"unknown option(s) {', '.join(map(repr, unknown))} for {where}; "
            f"valid options are: {', '.join(valid) if valid else '(none)'}"
        )


def require_optional_callable(value: Any, name: str, form: str) -> None:
    """Refuse anything but None or a callable, naming ``name`` and the expected ``form``."""
    if value is not None and not callable(value):
        raise TypeError(f"{name} must be None or a callable {form}, got {type(value).__name__}")


def require_verbosity(value: Any, name: str = "verbosity") -> int:
    """Return ``value`` if it is 0, 1 or 2 (an int, not a bool), or raise naming the three."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be 0, 1 or 2, got {value!r}")
    if value not in (0, 1, 2):
        raise ValueError(f"{name} must be 0, 1 or 2, got {value}")
    return int(value)


def callback_arity(callback: Any, name: str = "callback") -> int | None:
    """How to call ``callback``: 1 for ``callback(x)`` (scipy's form), 2 for ``(iteration, info)``.

    Decided once from ``inspect.signature`` by the number of required positional parameters: one
    means the scipy form, two the iteration form; none with ``*args`` (``lambda *a: ...``) also
    means the iteration form.  A callable whose signature cannot be read (some builtins) is
    taken to be of the iteration form.  None passes (returns None); anything else, or a callable
    of neither form, raises a one-line ``TypeError`` naming both forms.
    """
    if callback is None:
        return None
    forms = "callback(x) or callback(iteration, info)"
    if not callable(callback):
        raise TypeError(
            f"{name} must be None or callable as {forms}, got {type(callback).__name__}"
        )
    try:
        signature = inspect.signature(callback)
    except (TypeError, ValueError):
        return 2
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    parameters = list(signature.parameters.values())
    required = sum(p.kind in positional and p.default is p.empty for p in parameters)
    variadic = any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters)
    keyword_required = any(
        p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is p.empty for p in parameters
    )
    if not keyword_required:
        if required in (1, 2):
            return required
        if required == 0 and variadic:
            return 2
    raise TypeError(f"{name} must be callable as {forms}, got one with signature {signature}")


def scheduler_location(address: str, name: str = "scheduler address") -> tuple[str, int] | None:
    """(host, port) of a Dask scheduler address ``tcp://HOST:PORT`` (or ``HOST:PORT``).

    None for an address of another scheme (Dask's ``inproc://``, ``tls://``, …), which is
    handed to Dask as it is.  A ``tcp`` address without a host, without a numeric port or with
    a port outside 1–65535 raises ``ValueError`` naming ``name``.
    """
    scheme, sep, rest = address.partition("://")
    if not sep:
        scheme, rest = "tcp", address
    if scheme != "tcp":
        return None
    host, sep, port = rest.rstrip("/").rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ValueError(f"{name} {address!r}: expected tcp://HOST:PORT")
    if not 0 < int(port) < 65536:
        raise ValueError(f"{name} {address!r}: port {port} is out of range")
    return host.strip("[]"), int(port)
