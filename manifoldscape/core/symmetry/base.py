"""The symmetry-group interface, the trivial group, signs and phases, and shared helpers."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


def _flat(point: Any) -> np.ndarray:
    if isinstance(point, (list, tuple)):
        return np.concatenate([np.ravel(np.asarray(p)) for p in point])
    return np.ravel(np.asarray(point))


def _like(vector: np.ndarray, point: Any) -> Any:
    if isinstance(point, (list, tuple)):
        out, start = [], 0
        for p in point:
            size = np.size(p)
            out.append(vector[start : start + size].reshape(np.shape(p)))
            start += size
        return out
    return vector.reshape(np.shape(point))


class SymmetryGroup(abc.ABC):
    """A group G acting on the points of a manifold and leaving the cost invariant."""

    #: dimension of the group as a manifold (0 for a finite group)
    dimension: int = 0
    #: human-readable name
    name: str = "G"

    @abc.abstractmethod
    def distance(self, x: Any, y: Any) -> float:
        """dist_G(x, y) = min_{g ∈ G} ‖x − g · y‖ (Euclidean norm of the embedding)."""

    @abc.abstractmethod
    def align(self, x: Any, reference: Any) -> Any:
        """The element g · x of the orbit of x closest to ``reference``."""

    def orbit_tangent_vectors(self, x: Any) -> list[Any]:
        """Ambient vectors spanning the tangent space of the orbit G · x (empty if G is finite)."""
        return []

    def __repr__(self) -> str:
        return self.name


@dataclass(frozen=True, repr=False)
class Identity(SymmetryGroup):
    """The trivial group: no symmetry."""

    name: str = "trivial"

    def distance(self, x: Any, y: Any) -> float:  # noqa: D102
        return float(np.linalg.norm(_flat(x) - _flat(y)))

    def align(self, x: Any, reference: Any) -> Any:  # noqa: D102
        return x


@dataclass(frozen=True, repr=False)
class Sign(SymmetryGroup):
    """The group {±1} acting by x ↦ −x (on all factors of a product at once).

    Rayleigh quotient (seed 001: minimizers ±v₁), top singular pair (seed 000: (±u₁, ±v₁)),
    real phase retrieval (seed 003 §2).
    """

    name: str = "sign {±1}"

    def distance(self, x: Any, y: Any) -> float:  # noqa: D102
        a, b = _flat(x), _flat(y)
        return float(min(np.linalg.norm(a - b), np.linalg.norm(a + b)))

    def align(self, x: Any, reference: Any) -> Any:  # noqa: D102
        a, b = _flat(x), _flat(reference)
        sign = -1.0 if np.linalg.norm(a + b) < np.linalg.norm(a - b) else 1.0
        return _like(sign * a, x)


@dataclass(frozen=True, repr=False)
class Phase(SymmetryGroup):
    """The circle group U(1) ≅ S¹ acting by x ↦ e^{iφ} x on complex points.

    dist(x, y) = min_φ ‖x − e^{iφ} y‖ = (‖x‖² + ‖y‖² − 2 |⟨y, x⟩|)^{1/2} (seed 003 §2.1),
    evaluated as ‖x − e^{iφ*} y‖ at the optimal phase to avoid cancellation; the orbit tangent
    at x is i x.
    """

    name: str = "phase U(1)"
    dimension: int = 1

    def distance(self, x: Any, y: Any) -> float:  # noqa: D102
        a = _flat(x)
        return float(np.linalg.norm(a - _flat(self.align(y, x))))

    def align(self, x: Any, reference: Any) -> Any:  # noqa: D102
        a, b = _flat(x), _flat(reference)
        inner = np.vdot(a, b)
        phase = inner / abs(inner) if abs(inner) > 0 else 1.0
        return _like(phase * a, x)

    def orbit_tangent_vectors(self, x: Any) -> list[Any]:  # noqa: D102
        return [_like(1j * _flat(x), x)]


def _split_rows(stacked: np.ndarray, like: Sequence[Any]) -> list[np.ndarray]:
    """Split a stacked matrix [U; V; …] back into blocks with the row counts of ``like``."""
    out, start = [], 0
    for p in like:
        rows = np.shape(p)[0]
        out.append(stacked[start : start + rows])
        start += rows
    return out


def _real_array(value: Any, name: str, group: str) -> np.ndarray:
    """A finite real float array, or a ValueError/TypeError naming ``name``."""
    if isinstance(value, (list, tuple)):
        raise TypeError(f"{name} must be a numpy array for {group}, got a {type(value).__name__}")
    array = np.asarray(value)
    if array.dtype.kind == "c":
        raise ValueError(f"{name} must be real for {group}, got complex entries")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric for {group}, got dtype {array.dtype}")
    array = array.astype(float)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite for {group}, but it holds NaN or Inf")
    return array
