"""Keyword checks at the boundary: unknown names are refused with the valid ones listed.

``checked_keywords`` wraps a public entry point so that a misspelt keyword gives a one-line
``TypeError`` naming the function, the unknown keyword and every valid keyword name, instead of
Python's bare "got an unexpected keyword argument".  Renamed keywords keep working for a while:
the old name is mapped to the new one with a ``DeprecationWarning``, and giving both is an error.
``inspect.signature`` of the wrapped function still shows its real parameters
(``functools.wraps`` sets ``__wrapped__``).
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def checked_keywords(renamed: Mapping[str, str] | None = None) -> Callable[[F], F]:
    """Refuse unknown keywords listing the valid ones; map ``renamed`` old names to new ones."""
    renamed = dict(renamed or {})

    def decorate(function: F) -> F:
        signature = inspect.signature(function)
        parameters = signature.parameters
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
            raise TypeError(f"{function.__name__} takes **kwargs: its keywords cannot be checked")
        valid = frozenset(
            name
            for name, p in parameters.items()
            if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        )
        for old, new in renamed.items():
            if new not in valid:
                raise TypeError(f"{function.__name__}: renamed keyword {old!r} → unknown {new!r}")
        listing = ", ".join(name for name in parameters if name in valid)
        where = f"{function.__module__.split('.')[0]}.{function.__name__}"

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not kwargs.keys() <= valid:
                for old in renamed.keys() & kwargs.keys():
                    new = renamed[old]
                    if new in kwargs:
                        raise TypeError(
                            f"{where}() got both {new}= and its deprecated old name {old}=; "
                            f"give only {new}="
                        )
                    warnings.warn(
                        f"{where}(): the keyword {old}= is deprecated, use {new}=",
                        DeprecationWarning,
                        stacklevel=2,
                    )
                    kwargs[new] = kwargs.pop(old)
                unknown = sorted(kwargs.keys() - valid)
                if unknown:
                    raise TypeError(
                        f"{where}() got unknown keyword(s) {', '.join(map(repr, unknown))}; "
                        f"valid keywords are: {listing}"
                    )
            return function(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
