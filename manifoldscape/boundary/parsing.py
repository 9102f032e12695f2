"""Reading values typed by a user: ``KEY=VALUE`` pairs, numbers, lists, booleans and array files.

A value is read according to the signature of the factory it is meant for (its annotation, else
the type of its default): integers, numbers, true/false, strings, comma-separated lists of
numbers, ``none`` for optional parameters, and array files for array parameters.  Every refusal
is a ``UsageError`` whose one-line message names the flag and key and what was expected.
"""

from __future__ import annotations

import inspect
import math
import sys
import types
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np


class UsageError(Exception):
    """Bad input on the command line: reported on one line with exit status 2."""


_TRUE = {"true", "yes", "on"}
_FALSE = {"false", "no", "off"}
_NONE = {"none", "null"}

# what each kind of value accepts, for error messages
_KIND_TEXT = {
    "none": "'none'",
    "bool": "true/false",
    "int": "an integer",
    "float": "a number",
    "list": "a comma-separated list of numbers",
    "array": "an array file (.npy, or .npz from scipy.sparse.save_npz)",
    "str": "a string",
}
_KIND_ORDER = ["none", "bool", "int", "float", "list", "array", "str"]


def _kinds_of_annotation(annotation: Any) -> set[str]:
    """Return the kinds of command-line value an annotation admits (empty if none is readable)."""
    if annotation is inspect.Parameter.empty or annotation is Any:
        return set()
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        kinds: set[str] = set()
        for member in typing.get_args(annotation):
            kinds |= _kinds_of_annotation(member)
        return kinds
    if origin is typing.Literal:
        return {"str"} if all(isinstance(a, str) for a in typing.get_args(annotation)) else set()
    if annotation is type(None) or annotation is None:
        return {"none"}
    if annotation is bool:
        return {"bool"}
    if annotation in (int, np.integer):
        return {"int"}
    if annotation in (float, np.floating):
        return {"float"}
    if annotation is str:
        return {"str"}
    if origin is not None and isinstance(origin, type):
        if issubclass(origin, Sequence) and not issubclass(origin, str):
            args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
            if all(a in (int, float) for a in args):
                return {"list"}
        return set()
    if isinstance(annotation, type):
        import scipy.sparse
        import scipy.sparse.linalg

        array_types = (np.ndarray, scipy.sparse.spmatrix, scipy.sparse.linalg.LinearOperator)
        if issubclass(annotation, array_types):
            return {"array"}
    return set()


def _kinds_of_default(default: Any) -> set[str]:
    if default is inspect.Parameter.empty:
        return set()
    if default is None:
        return {"none"}
    if isinstance(default, bool):
        return {"bool"}
    if isinstance(default, (int, np.integer)):
        return {"int"}
    if isinstance(default, (float, np.floating)):
        return {"float"}
    if isinstance(default, str):
        return {"str"}
    if isinstance(default, (list, tuple)):
        return {"list"}
    if isinstance(default, np.ndarray):
        return {"array"}
    return set()


_TOKEN_KINDS = {"None": "none", "bool": "bool", "int": "int", "float": "float", "str": "str"}


def _kinds_of_text(annotation: str) -> set[str]:
    """Kinds from an annotation string that could not be evaluated (``"int | None"``)."""
    kinds = set()
    for token in annotation.replace(" ", "").split("|"):
        if token in _TOKEN_KINDS:
            kinds.add(_TOKEN_KINDS[token])
        elif token.endswith("]") and token.split("[")[0].split(".")[-1] in (
            "Sequence",
            "list",
            "tuple",
        ):
            inner = token[token.index("[") + 1 : -1].split(",")
            if all(item in ("int", "float", "...") for item in inner):
                kinds.add("list")
    return kinds


def _resolve(annotation: Any, namespaces: list[dict[str, Any]]) -> Any:
    """Evaluate a string annotation (``from __future__ import annotations``) where written."""
    if not isinstance(annotation, str):
        return annotation
    for namespace in namespaces:
        try:
            return eval(annotation, dict(namespace))  # what typing.get_type_hints does
        except Exception:
            continue
    return annotation


def parameter_kinds(factory: Callable[..., Any]) -> dict[str, set[str]]:
    """For each keyword parameter of ``factory``: the kinds of value the command line may give.

    The annotation decides (string annotations are evaluated in the module of the factory, or of
    the class it returns); the default's type is added to it.
    """
    signature = inspect.signature(factory)
    namespaces = []
    for owner in (factory, signature.return_annotation):
        module = sys.modules.get(getattr(owner, "__module__", None) or "")
        if module is not None:
            namespaces.append(vars(module))
    out = {}
    for name, parameter in signature.parameters.items():
        if parameter.kind not in (parameter.KEYWORD_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            continue
        annotation = _resolve(parameter.annotation, namespaces)
        if isinstance(annotation, str):
            kinds = _kinds_of_text(annotation)
        else:
            kinds = _kinds_of_annotation(annotation)
        kinds |= _kinds_of_default(parameter.default)
        if "int" in kinds and "float" not in kinds and isinstance(parameter.default, float):
            kinds.add("float")
        out[name] = kinds
    return out


def describe_kinds(kinds: set[str]) -> str:
    """What a set of kinds accepts, in words, for error messages."""
    texts = [_KIND_TEXT[k] for k in _KIND_ORDER if k in kinds]
    return " or ".join(texts) if texts else "a value"


def parse_number_list(text: str) -> list[int] | list[float] | None:
    """``"1,0.5,-1"`` → [1.0, 0.5, -1.0]; integers stay integers when every item is one."""
    items = [item.strip() for item in text.split(",")]
    if any(not item for item in items):
        return None
    try:
        return [int(item) for item in items]
    except ValueError:
        pass
    try:
        return [float(item) for item in items]
    except ValueError:
        return None


def load_array_file(text: str, what: str) -> Any:
    """The array stored in a ``.npy`` file, or in a one-array or ``scipy.sparse`` ``.npz`` file.

    Read by ``manifoldscape.boundary.files``: headers and sizes checked before the data, no
    pickles, sparse indices checked before scipy sees them.
    """
    from manifoldscape.boundary.files import ArrayFileError
    from manifoldscape.boundary.files import load_array_file as load

    try:
        return load(text, what)
    except ArrayFileError as exc:
        raise UsageError(one_line(exc)) from None


def parse_value(text: str, kinds: set[str], what: str) -> Any:
    """Read ``text`` as the first kind in ``kinds`` that accepts it (see ``_KIND_ORDER``)."""
    if kinds <= {"none"}:  # no annotation and no usable default: the plainest reading
        kinds = {"none", "bool", "int", "float", "list", "str"}
    lowered = text.strip().lower()
    if "none" in kinds and lowered in _NONE:
        return None
    if "bool" in kinds and lowered in _TRUE | _FALSE:
        return lowered in _TRUE
    if "bool" in kinds and "int" not in kinds and lowered in ("1", "0"):
        return lowered == "1"
    if "int" in kinds:
        try:
            return int(text)
        except ValueError:
            pass
    if "float" in kinds:
        try:
            value = float(text)
        except ValueError:
            pass
        else:
            if math.isfinite(value) or "str" not in kinds:
                return value
    if "list" in kinds and (values := parse_number_list(text)) is not None:
        return values
    if "array" in kinds and (Path(text).suffix in (".npy", ".npz") or kinds <= {"array", "none"}):
        return load_array_file(text, what)
    if "str" in kinds:
        return text
    raise UsageError(f"{what}: expected {describe_kinds(kinds)}, got {text!r}")


def split_assignments(items: Sequence[str] | None, flag: str) -> dict[str, str]:
    """``["k=v", …]`` as a dict; a missing ``=``, an empty key or a repeated key is refused."""
    out: dict[str, str] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"{flag} expects KEY=VALUE, got {item!r}")
        if key in out:
            raise UsageError(f"{flag} {key} is given twice")
        out[key] = value
    return out


def coerce_assignments(
    given: dict[str, str],
    factory: Callable[..., Any],
    flag: str,
    noun: str,
    owner: str,
    reserved: set[str],
) -> dict[str, Any]:
    """Check the keys of ``given`` against ``factory``'s signature and parse each value."""
    kinds = parameter_kinds(factory)
    open_ended = any(
        p.kind is p.VAR_KEYWORD for p in inspect.signature(factory).parameters.values()
    )
    valid = sorted(k for k in kinds if k not in reserved)
    out = {}
    for key, text in given.items():
        if key in reserved:
            raise UsageError(f"{flag} {key} is not allowed: set it with --{key}")
        if key not in kinds and not open_ended:
            raise UsageError(
                f"unknown {noun} {key!r} for {owner}; valid {noun}s: "
                f"{', '.join(valid) if valid else '(none)'}"
            )
        out[key] = parse_value(text, kinds.get(key, set()), f"{flag} {key}")
    return out


def one_line(exc: BaseException) -> str:
    """The message of an exception on one line (its type name if it has none)."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
