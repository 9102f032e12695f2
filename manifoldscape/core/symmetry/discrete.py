"""Finite groups: signed permutations, signed circular shifts, and scale."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.optimize

from manifoldscape.core.symmetry.base import SymmetryGroup, _flat, _like, _real_array


class SignedPermutation(SymmetryGroup):
    """The signed permutations SP(n) = {P S : P a permutation, S = diag(±1)} (seed 003 §3).

    The symmetry of dictionary learning (columns of the dictionary and rows of the sparse codes
    can be permuted and sign-flipped together, seed 003 §3.1–3.2; seed 001, "dictionary
    learning") and of orthogonal tensor decomposition (seed 003 eq. 3.16–3.17; seed 001,
    "tensor decomposition on O(n)").  g = P S acts on the length-n axis ``axis`` of an array:
    a vector x ∈ Rⁿ goes to P S x; an m × n matrix with ``axis=-1`` has its columns permuted and
    sign-flipped (X ↦ X S Pᵀ), with ``axis=0`` its rows.  With an orthogonal n × n ``basis`` B
    the action is conjugated, x ↦ B P S Bᵀ x along ``axis``: the symmetry of a sphere problem
    whose minimizers are {±b_i} (dist(x, b₁) = min_i min_± ‖x ∓ b_i‖).  A ``basis`` of r < n
    orthonormal columns gives SP(r) acting on the coordinates Bᵀx and fixing the orthogonal
    complement, x ↦ B P S Bᵀ x + (I − B Bᵀ) x: the symmetry of a rank-r tensor's components
    {±b₁, …, ±b_r} seen from the sphere.

    Writing x_i for the slices of x along ``axis`` (after the change of basis),

        dist(x, y)² = min_{π, s} Σ_i ‖x_i − s_i y_{π(i)}‖²,
        ‖x_i ∓ y_j‖² = ‖x_i‖² + ‖y_j‖² − 2 |⟨x_i, y_j⟩| at the best sign,

    a linear assignment problem on the n × n matrix of squared distances, solved exactly by
    ``scipy.optimize.linear_sum_assignment`` (Hungarian method, O(n³)).  For vectors the slices
    are scalars and the optimum pairs the sorted |x_i| with the sorted |y_j| (rearrangement
    inequality), O(n log n).  The distance is reported as ‖x − g*·y‖ at the optimal g*, computed
    directly (no cancellation).  The group is finite: ``dimension`` 0, no orbit tangents.

    Two subgroups, for costs with less symmetry: ``signed=False`` keeps the permutations alone
    (S(n), signs fixed to +1; e.g. the hidden units of a ReLU network, which is not even), and
    ``labels`` (one label per slice) keeps the permutations that map every slice to one with
    the same label (e.g. hidden units with the same output weight c_i).  Both only restrict the
    assignment: forbidden pairs get an infinite cost, the best sign is dropped without signs.
    """

    dimension = 0

    def __init__(
        self,
        n: int,
        axis: int = -1,
        basis: np.ndarray | None = None,
        *,
        signed: bool = True,
        labels: Sequence[Any] | np.ndarray | None = None,
    ):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n must be a positive integer, got {n!r}")
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"axis must be an integer, got {axis!r}")
        self.n = int(n)
        self.axis = int(axis)
        self.name = f"SP({self.n})"
        #: the number r of slices permuted: n, or the number of columns of ``basis``
        self.size = self.n
        self.basis: np.ndarray | None = None
        if basis is not None:
            b = _real_array(basis, "basis", self.name)
            if b.ndim != 2 or b.shape[0] != self.n or not 1 <= b.shape[1] <= self.n:
                raise ValueError(
                    f"basis must be an {n} × {n} orthogonal matrix (or {n} × r, r ≤ {n}, with "
                    f"orthonormal columns), got shape {b.shape}"
                )
            error = float(np.max(np.abs(b.T @ b - np.eye(b.shape[1]))))
            if error > 1e-8:
                raise ValueError(
                    f"basis must have orthonormal columns, but max |BᵀB − I| = {error:.3g}"
                )
            self.basis = b
            self.size = b.shape[1]
            self.name = (
                f"SP({self.n}) in a basis"
                if self.size == self.n
                else f"SP({self.size}) on a {self.size}-dimensional subspace of R^{self.n}"
            )
        if not isinstance(signed, (bool, np.bool_)):
            raise TypeError(f"signed must be True or False, got {signed!r}")
        self.signed = bool(signed)
        self.labels: tuple[Any, ...] | None = None
        if labels is not None:
            if isinstance(labels, (str, bytes)) or np.ndim(labels) != 1:
                raise TypeError(f"labels must be a sequence of {self.size} labels, got {labels!r}")
            if len(labels) != self.size:
                raise ValueError(
                    f"labels must hold one label per slice ({self.size}), got {len(labels)}"
                )
            self.labels = tuple(np.asarray(labels).tolist())
        if not self.signed:
            self.name = self.name.replace("SP(", "S(", 1)
        if self.labels is not None and len(set(self.labels)) > 1:
            self.name += f" fixing labels {list(self.labels)}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SignedPermutation):
            return NotImplemented
        same_basis = (self.basis is None and other.basis is None) or (
            self.basis is not None
            and other.basis is not None
            and np.array_equal(self.basis, other.basis)
        )
        return (
            self.n == other.n
            and self.axis == other.axis
            and same_basis
            and self.signed == other.signed
            and self.labels == other.labels
        )

    __hash__ = None  # type: ignore[assignment]

    # ------------------------------------------------------------------ coordinates
    def _slices(self, x: Any, name: str) -> tuple[np.ndarray, np.ndarray | None]:
        """The coordinates C = Bᵀ X and the rest X − B C (None when r = n) of x.

        X is the n × m matrix whose rows are the slices of x along ``axis``.
        """
        a = _real_array(x, name, self.name)
        if a.ndim == 0:
            raise ValueError(f"{name} must be an array with an axis of length {self.n}")
        if not -a.ndim <= self.axis < a.ndim:
            raise ValueError(
                f"{name} has {a.ndim} dimension(s), too few for axis={self.axis} of {self.name}"
            )
        if a.shape[self.axis] != self.n:
            raise ValueError(
                f"{name} must have length {self.n} along axis {self.axis} for {self.name}, "
                f"got shape {a.shape}"
            )
        rows = np.moveaxis(a, self.axis, 0).reshape(self.n, -1)
        if self.basis is None:
            return rows, None
        coordinates = self.basis.T @ rows
        rest = None if self.size == self.n else rows - self.basis @ coordinates
        return coordinates, rest

    def _restore(self, coordinates: np.ndarray, rest: np.ndarray | None, like: Any) -> np.ndarray:
        rows = coordinates if self.basis is None else self.basis @ coordinates
        if rest is not None:
            rows = rows + rest
        moved = np.moveaxis(np.asarray(like), self.axis, 0).shape
        return np.moveaxis(rows.reshape(moved), 0, self.axis)

    def _pair(self, x: Any, y: Any, names: tuple[str, str]) -> tuple[tuple, tuple]:
        a, b = self._slices(x, names[0]), self._slices(y, names[1])
        if np.shape(x) != np.shape(y):
            raise ValueError(
                f"{names[0]} and {names[1]} must have the same shape, got {np.shape(x)} and "
                f"{np.shape(y)}"
            )
        return a, b

    def _match_rows(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Optimal (π, s) matching row i of b to s_i a_{π(i)}."""
        if a.shape[1] == 1 and self.signed and self.labels is None:
            order_a = np.argsort(-np.abs(a[:, 0]), kind="stable")
            order_b = np.argsort(-np.abs(b[:, 0]), kind="stable")
            perm = np.empty(self.size, dtype=int)
            perm[order_b] = order_a
        else:
            inner = b @ a.T  # ⟨b_i, a_j⟩
            squared = (
                np.sum(b * b, axis=1)[:, None]
                + np.sum(a * a, axis=1)[None, :]
                - 2 * (np.abs(inner) if self.signed else inner)
            )
            if self.labels is not None:
                labels = np.asarray(self.labels, dtype=object)
                squared = np.where(labels[:, None] == labels[None, :], squared, np.inf)
            rows, perm = scipy.optimize.linear_sum_assignment(squared)
            perm = perm[np.argsort(rows)]
        if not self.signed:
            return perm, np.ones(self.size)
        products = np.sum(b * a[perm], axis=1)
        return perm, np.where(products < 0, -1.0, 1.0)

    def matching(self, x: Any, reference: Any) -> tuple[np.ndarray, np.ndarray]:
        """The optimal (π, s): slice i of ``reference`` is matched to s_i · (slice π(i) of x).

        In the coordinates of ``basis`` when one is given.
        """
        (a, _), (b, _) = self._pair(x, reference, ("x", "reference"))
        return self._match_rows(a, b)

    def act(self, x: Any, permutation: Sequence[int], signs: Sequence[float]) -> np.ndarray:
        """The point g · x, g = (π, s): slice i is s_i · (slice π(i) of x) (in the basis B)."""
        r = self.size
        perm = np.asarray(permutation, dtype=int)
        s = np.asarray(signs, dtype=float)
        if perm.shape != (r,) or not np.array_equal(np.sort(perm), np.arange(r)):
            raise ValueError(f"permutation must be a permutation of range({r})")
        if s.shape != (r,) or not np.all(np.abs(s) == 1):
            raise ValueError(f"signs must be {r} numbers ±1")
        if not self.signed and np.any(s != 1):
            raise ValueError(f"signs must all be +1 for {self.name} (no sign changes)")
        if self.labels is not None and any(
            self.labels[i] != self.labels[j] for i, j in enumerate(perm)
        ):
            raise ValueError(
                f"permutation must map every slice to one with its label ({self.name})"
            )
        coordinates, rest = self._slices(x, "x")
        return self._restore(s[:, None] * coordinates[perm], rest, x)

    def random_element(self, seed: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """A uniformly random (π, s) from a numpy Generator or seed."""
        rng = np.random.default_rng(seed) if not isinstance(seed, np.random.Generator) else seed
        if self.labels is None:
            perm = rng.permutation(self.size)
        else:  # shuffle within each class of equal labels
            perm = np.arange(self.size)
            for label in dict.fromkeys(self.labels):
                members = np.flatnonzero([item == label for item in self.labels])
                perm[members] = rng.permutation(members)
        signs = rng.choice([-1.0, 1.0], size=self.size) if self.signed else np.ones(self.size)
        return perm, signs

    def align(self, x: Any, reference: Any) -> np.ndarray:  # noqa: D102
        (a, rest), (b, _) = self._pair(x, reference, ("x", "reference"))
        perm, signs = self._match_rows(a, b)
        return self._restore(signs[:, None] * a[perm], rest, x)

    def distance(self, x: Any, y: Any) -> float:  # noqa: D102
        (a, rest_x), (b, rest_y) = self._pair(x, y, ("x", "y"))
        perm, signs = self._match_rows(b, a)
        # B has orthonormal columns: the norm splits into span(B) and its complement
        inside = float(np.linalg.norm(a - signs[:, None] * b[perm]))
        if rest_x is None:
            return inside
        return float(np.hypot(inside, np.linalg.norm(rest_x - rest_y)))

    def __repr__(self) -> str:
        return self.name


class SignedShift(SymmetryGroup):
    """Circular shifts with signs, Z_n × {±1}, acting by y ↦ ± s_k[y] (seed 003 §3.3).

    The symmetry of multichannel sparse blind deconvolution with circular convolution (seed 003
    §3.3, "cyclic shift symmetry"; seed 001, "multichannel sparse blind deconvolution"):
    s_k[y]_i = y_{(i − k) mod n} (``numpy.roll(y, k)``).  On an array the last axis (length n)
    is shifted, every row by the same k and with the same sign.

        dist(x, y)² = min_{k, ±} ‖x ∓ s_k[y]‖² = ‖x‖² + ‖y‖² − 2 max_k |c_k|,
        c_k = Σ_i ⟨x_i, y_{i−k}⟩ = IFFT(FFT(x) · conj(FFT(y)))_k   (summed over rows),

    the circular cross-correlation computed with FFTs in O(n log n) per row; the distance is then
    evaluated as ‖x ∓ s_k[y]‖ at the optimal (k, ±), directly.  Finite group: no orbit tangents.
    """

    dimension = 0

    def __init__(self, n: int):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n must be a positive integer, got {n!r}")
        self.n = int(n)
        self.name = f"Z_{self.n} × {{±1}}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SignedShift):
            return NotImplemented
        return self.n == other.n

    __hash__ = None  # type: ignore[assignment]

    def _check(self, x: Any, name: str) -> np.ndarray:
        a = _real_array(x, name, self.name)
        if a.ndim == 0 or a.shape[-1] != self.n:
            raise ValueError(
                f"{name} must have length {self.n} along its last axis for {self.name}, "
                f"got shape {a.shape}"
            )
        return a

    def correlation(self, x: Any, y: Any) -> np.ndarray:
        """c_k = ⟨x, s_k[y]⟩ for k = 0, …, n − 1 (summed over all rows), by FFT."""
        a, b = self._check(x, "x"), self._check(y, "y")
        if a.shape != b.shape:
            raise ValueError(f"x and y must have the same shape, got {a.shape} and {b.shape}")
        spectrum = np.fft.rfft(a, axis=-1) * np.conj(np.fft.rfft(b, axis=-1))
        spectrum = spectrum.reshape(-1, spectrum.shape[-1]).sum(axis=0)
        return np.fft.irfft(spectrum, n=self.n)

    def matching(self, x: Any, reference: Any) -> tuple[int, float]:
        """The optimal (k, ±) with ± s_k[x] closest to ``reference``."""
        c = self.correlation(reference, x)
        k = int(np.argmax(np.abs(c)))
        return k, (-1.0 if c[k] < 0 else 1.0)

    def act(self, x: Any, shift: int, sign: float = 1.0) -> np.ndarray:
        """± s_k[x]: every row of x shifted circularly by ``shift`` along the last axis."""
        if sign not in (1, -1, 1.0, -1.0):
            raise ValueError(f"sign must be +1 or −1, got {sign!r}")
        return float(sign) * np.roll(self._check(x, "x"), int(shift), axis=-1)

    def random_element(self, seed: Any = None) -> tuple[int, float]:
        """A uniformly random (k, ±) from a numpy Generator or seed."""
        rng = np.random.default_rng(seed) if not isinstance(seed, np.random.Generator) else seed
        return int(rng.integers(self.n)), float(rng.choice([-1.0, 1.0]))

    def align(self, x: Any, reference: Any) -> np.ndarray:  # noqa: D102
        k, sign = self.matching(x, reference)
        return self.act(x, k, sign)

    def distance(self, x: Any, y: Any) -> float:  # noqa: D102
        a, b = self._check(x, "x"), self._check(y, "y")
        if a.shape != b.shape:
            raise ValueError(f"x and y must have the same shape, got {a.shape} and {b.shape}")
        k, sign = self.matching(b, a)
        return float(np.linalg.norm(a - self.act(b, k, sign)))

    def __repr__(self) -> str:
        return self.name


class Scaled(SymmetryGroup):
    """G × R₊ (or G × R∖{0} with ``signed=True``): a group together with scalings x ↦ α g · x.

    The shift-and-scale symmetry of blind deconvolution, a ⊛ x = α s_τ[a] ⊛ α⁻¹ s₋τ[x]
    (seed 003 eq. 3.14; seed 001, "multichannel sparse blind deconvolution"): the kernel is only
    recoverable up to a shift, a sign and a scale.  The orbit G·R₊·y is a cone, so the distance
    is measured between the normalized representatives, i.e. scale-free and relative:

        dist(x, y) = min_{g ∈ G (, ±)} ‖ x/‖x‖ − g · y/‖y‖ ‖,

    the chordal distance between the rays of x and y modulo G (0 on the orbit, at most 2, at most
    √2 up to sign; a metric on the orbits when G acts by isometries).  Equivalently it is the
    relative error ‖x − x̃‖/‖x‖ of the best g · y rescaled to the norm of x, which is how
    "recovery modulo shift and scale" is reported: ``Scaled(SignedShift(n)).distance(a_hat, a0)``
    is the relative error of a kernel estimate modulo signed shift and scale.  It is already
    relative, so ``Problem.distance_to_truth`` (which divides by ‖x♮‖) gives it directly for a
    unit-norm truth.  ``align(x, reference)`` returns the element α g · x of the orbit with
    ‖α g · x‖ = ‖reference‖ closest to ``reference``.  Zero points have no ray: ValueError.
    The scaling is a one-dimensional continuous group: ``dimension`` adds 1 and the orbit
    tangents add x itself (d/dt e^t x at t = 0).
    """

    def __init__(self, group: SymmetryGroup, signed: bool = False):
        if not isinstance(group, SymmetryGroup):
            raise TypeError(f"group must be a SymmetryGroup, got {type(group).__name__}")
        if not isinstance(signed, (bool, np.bool_)):
            raise TypeError(f"signed must be True or False, got {signed!r}")
        self.group = group
        self.signed = bool(signed)
        self.dimension = group.dimension + 1
        self.name = f"{group.name} × {'R∖{0}' if self.signed else 'R₊'} scalings"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Scaled):
            return NotImplemented
        return self.group == other.group and self.signed == other.signed

    __hash__ = None  # type: ignore[assignment]

    @staticmethod
    def _unit(x: Any, name: str) -> tuple[Any, float]:
        norm = float(np.linalg.norm(_flat(x)))
        if not np.isfinite(norm):
            raise ValueError(f"{name} must be finite")
        if norm == 0:
            raise ValueError(f"{name} must be nonzero: the zero point has no scale-free ray")
        if isinstance(x, (list, tuple)):
            return [np.asarray(p) / norm for p in x], norm
        return np.asarray(x) / norm, norm

    def _best(self, x_unit: Any, reference_unit: Any) -> Any:
        candidate = self.group.align(x_unit, reference_unit)
        if not self.signed:
            return candidate
        flipped = self.group.align(_like(-_flat(x_unit), x_unit), reference_unit)
        r = _flat(reference_unit)
        if np.linalg.norm(r - _flat(flipped)) < np.linalg.norm(r - _flat(candidate)):
            return flipped
        return candidate

    def distance(self, x: Any, y: Any) -> float:  # noqa: D102
        x_unit, _ = self._unit(x, "x")
        y_unit, _ = self._unit(y, "y")
        return float(np.linalg.norm(_flat(x_unit) - _flat(self._best(y_unit, x_unit))))

    def align(self, x: Any, reference: Any) -> Any:  # noqa: D102
        x_unit, _ = self._unit(x, "x")
        r_unit, r_norm = self._unit(reference, "reference")
        best = self._best(x_unit, r_unit)
        return _like(r_norm * _flat(best), best)

    def orbit_tangent_vectors(self, x: Any) -> list[Any]:  # noqa: D102
        return [*self.group.orbit_tangent_vectors(x), x]

    def __repr__(self) -> str:
        return self.name


class ColumnSigns(SymmetryGroup):
    """Independent sign flips of the k columns, X ↦ X S with S = diag(±1) ({±1}^k).

    The symmetry of a cost that depends on each column only through x_j x_jᵀ or |x_j| — for
    example k decoupled Rayleigh quotients, or a factorization whose columns are identified
    only up to sign.  The group is a product, so the best sign is chosen column by column:

        dist(x, y)² = Σ_j min(‖x_j − y_j‖², ‖x_j + y_j‖²),

    reported as ‖x − y S*‖ at the optimal S* (no cancellation).  Finite: no orbit tangents.
    """

    dimension = 0

    def __init__(self, k: int):
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        self.k = int(k)
        self.name = f"column signs {{±1}}^{self.k}"

    def _matrix(self, x: Any, what: str) -> np.ndarray:
        m = _real_array(x, what, self.name)
        if m.ndim != 2 or m.shape[1] != self.k:
            raise ValueError(
                f"{what} must be a matrix with {self.k} columns for {self.name}, got {m.shape}"
            )
        return m

    def _signs(self, x: np.ndarray, reference: np.ndarray) -> np.ndarray:
        return np.where(np.einsum("ij,ij->j", x, reference) < 0, -1.0, 1.0)

    def distance(self, x: Any, y: Any) -> float:  # noqa: D102
        a, b = self._matrix(x, "x"), self._matrix(y, "y")
        if a.shape != b.shape:
            raise ValueError(f"x and y must have the same shape, got {a.shape} and {b.shape}")
        return float(np.linalg.norm(a - b * self._signs(b, a)))

    def align(self, x: Any, reference: Any) -> Any:  # noqa: D102
        a, b = self._matrix(x, "x"), self._matrix(reference, "reference")
        return a * self._signs(a, b)

    def __repr__(self) -> str:
        return self.name


class ColumnPermutations(SignedPermutation):
    """Permutations of the k columns, X ↦ X Pᵀ (the symmetric group S(k), signs fixed).

    The symmetry of a cost that treats its k columns as an unordered set: the hidden units of
    a network with equal output weights, the atoms of a dictionary whose signs matter.  It is
    ``SignedPermutation(k, axis=-1, signed=False)``: the distance is the linear assignment
    min_π Σ_j ‖x_j − y_{π(j)}‖², solved exactly by the Hungarian method.
    """

    def __init__(self, k: int):
        super().__init__(k, axis=-1, signed=False)
        self.name = f"column permutations S({self.n})"
