"""The Riemannian Hessian's spectrum off the symmetry orbit: dense, or Krylov until decided.

Two ways to the eigenvalues a certificate needs (``manifoldscape.core.certificate``):

* **dense** — the d × d matrix H_ij = ⟨b_i, Hess f(x)[b_j]⟩ in an orthonormal tangent basis
  (d Hessian-vector products, batched where the problem can) and all its eigenvalues, O(d³);
* **Krylov** — Lanczos with full reorthogonalization on the operator c ↦ H c restricted to the
  complement of the orbit, stopped as soon as the verdict and the index are decided.  After k
  steps the tridiagonal T_k = Q_kᵀ H Q_k has Ritz values θ_1 ≤ … ≤ θ_k with residual bounds
  r_i = β_k |s_{k,i}| (s_i the eigenvectors of T_k): every interval [θ_i − r_i, θ_i + r_i] holds
  an eigenvalue of H, and by Cauchy interlacing λ_1 ≤ θ_1 and λ_d ≥ θ_k (Parlett, *The Symmetric
  Eigenvalue Problem*, §§10.2, 11.4, 13.2).  The spectrum model handed to the decision is: the
  bottom Ritz values whose residual is small (λ_1 … λ_j, each in its interval), the top one, and
  the d − j − 1 eigenvalues not resolved, which lie between the last resolved bottom value and
  the top.  When the decision counts negative eigenvalues, a second Lanczos run from a new random
  vector on the operator deflated by the negative Ritz vectors confirms that no copy of a
  multiple eigenvalue was missed (single-vector Lanczos sees one copy of each); it repeats until
  the deflated operator has no eigenvalue below the threshold.

The cheaper way is chosen by counting operations (``choose_method``): d products plus ~d³/6
flops of the dense eigensolver against the expected Krylov steps, each one product plus the
reorthogonalization's ~4kd flops, with the product's cost measured on the first one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg

from manifoldscape.core.hessian import RiemannianHessian

__all__ = ["Spectrum", "choose_method", "dense_spectrum", "krylov_spectrum"]


@dataclass
class Spectrum:
    """What a spectrum computation found.

    ``eigenvalues`` ascending, each known within ``radii`` (0 for dense); for Krylov the resolved
    bottom values and then the top one, with ``hidden`` unresolved eigenvalues between the last
    bottom value and the top (``hidden_low`` is −inf when no bottom value is resolved: then the
    first listed value is only an upper bound of λ_1).  ``symmetry_eigenvalues`` are those of the
    orbit block, ``orbit_leak`` the largest ‖H s‖ over orbit directions s, ``full`` the whole
    spectrum with the orbit when it was computed, ``steps`` the Krylov steps made.
    """

    eigenvalues: np.ndarray
    symmetry_eigenvalues: np.ndarray
    hessian_norm: float
    method: str
    radii: np.ndarray = field(default_factory=lambda: np.zeros(0))
    hidden: int = 0
    hidden_low: float = -np.inf
    orbit_leak: float = 0.0
    full: np.ndarray | None = None
    steps: int = 0

    def __post_init__(self) -> None:
        if self.radii.size != self.eigenvalues.size:
            self.radii = np.zeros(self.eigenvalues.size)


def _checked(apply: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    def product(c: np.ndarray) -> np.ndarray:
        out = apply(c)
        if not np.all(np.isfinite(out)):
            raise FloatingPointError("a Hessian-vector product holds NaN or Inf")
        return out

    return product


def _orbit_block(
    apply: Callable[[np.ndarray], np.ndarray], orbit: np.ndarray
) -> tuple[np.ndarray, float]:
    if not orbit.shape[1]:
        return np.zeros(0), 0.0
    images = np.column_stack([apply(orbit[:, j]) for j in range(orbit.shape[1])])
    block = orbit.T @ images
    leak = float(np.max(np.linalg.norm(images, axis=0)))
    return np.linalg.eigvalsh(0.5 * (block + block.T)), leak


def dense_spectrum(hessian: RiemannianHessian, orbit: np.ndarray) -> Spectrum:
    """All eigenvalues of the Hessian matrix, split into the orbit block and its complement."""
    h = hessian.matrix()
    if not np.all(np.isfinite(h)):
        raise FloatingPointError("the Hessian matrix holds NaN or Inf")
    full = np.linalg.eigvalsh(h)
    k = orbit.shape[1]
    if k:
        q = scipy.linalg.qr(orbit, mode="full")[0]
        complement = q[:, k:]
        eigs = np.linalg.eigvalsh(complement.T @ h @ complement)
        block = orbit.T @ h @ orbit
        sym_eigs = np.linalg.eigvalsh(0.5 * (block + block.T))
        leak = float(np.max(np.linalg.norm(h @ orbit, axis=0)))
    else:
        eigs, sym_eigs, leak = full, np.zeros(0), 0.0
    hessian_norm = float(np.max(np.abs(full))) if full.size else 0.0
    return Spectrum(eigs, sym_eigs, hessian_norm, "dense", orbit_leak=leak, full=full)


# --------------------------------------------------------------------------- Lanczos
@dataclass
class _Run:
    """One Lanczos run: its basis, tridiagonal, and current Ritz pairs."""

    basis: np.ndarray  # (steps + 1) × d, rows orthonormal
    alphas: list[float] = field(default_factory=list)
    betas: list[float] = field(default_factory=list)
    exhausted: bool = False  # the Krylov space became invariant
    _cached: tuple | None = None  # (steps, Ritz values, radii) of the last ``ritz()``

    def ritz(self, vectors: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Ritz values (ascending), their residual bounds, and (if asked) the Ritz vectors."""
        k = len(self.alphas)
        if not vectors and self._cached is not None and self._cached[0] == k:
            return self._cached[1], self._cached[2], None
        values, s = scipy.linalg.eigh_tridiagonal(
            np.asarray(self.alphas), np.asarray(self.betas[: k - 1])
        )
        last = self.betas[k - 1] if len(self.betas) >= k and not self.exhausted else 0.0
        radii = np.abs(last * s[k - 1, :])
        self._cached = (k, values, radii)
        return values, radii, (self.basis[:k].T @ s if vectors else None)


def _lanczos(
    apply: Callable[[np.ndarray], np.ndarray],
    project: Callable[[np.ndarray], np.ndarray],
    start: np.ndarray,
    max_steps: int,
    stop: Callable[[_Run], bool],
) -> _Run:
    """Lanczos with full reorthogonalization (twice) on project ∘ apply ∘ project."""
    d = start.size
    q = project(start)
    q = q / np.linalg.norm(q)
    run = _Run(np.zeros((max_steps + 1, d)))
    run.basis[0] = q
    scale = 0.0
    for k in range(max_steps):
        w = project(apply(run.basis[k]))
        alpha = float(run.basis[k] @ w)
        w = w - alpha * run.basis[k]
        if k:
            w = w - run.betas[k - 1] * run.basis[k - 1]
        for _ in range(2):
            w = w - run.basis[: k + 1].T @ (run.basis[: k + 1] @ w)
        w = project(w)
        beta = float(np.linalg.norm(w))
        run.alphas.append(alpha)
        run.betas.append(beta)
        scale = max(scale, abs(alpha), beta)
        if beta <= 1e-12 * scale or k + 1 >= max_steps:
            run.exhausted = beta <= 1e-12 * scale
            stop(run)
            break
        run.basis[k + 1] = w / beta
        # the decision is tested at every step early on, then every third (Ritz values are
        # O(k²) each time); a run stops at most two products later than it could
        if (k < 12 or k % 3 == 2) and stop(run):
            break
    return run


def krylov_spectrum(
    hessian: RiemannianHessian,
    orbit: np.ndarray,
    rng: np.random.Generator,
    decided: Callable[[Spectrum], bool],
    negative_below: Callable[[Spectrum], float | None],
    *,
    max_steps: int,
    lowest: int = 0,
) -> Spectrum:
    """Lanczos off the orbit until ``decided(spectrum)`` (module docstring), then deflation runs.

    ``negative_below(spectrum)`` gives the level below which the decision counts eigenvalues
    (None when it counts none); each deflation run confirms the count.  ``lowest`` asks for that
    many bottom eigenvalues resolved as well (a radius ≤ 10⁻⁸ ‖H‖).
    """
    d, s = hessian.dim, orbit.shape[1]
    d_off = d - s
    apply = _checked(hessian.apply_coordinates)
    sym_eigs, leak = _orbit_block(apply, orbit)

    def project_orbit(v: np.ndarray) -> np.ndarray:
        return v - orbit @ (orbit.T @ v) if s else v

    def model(run: _Run) -> Spectrum:
        values, radii, _ = run.ritz()
        norm = max(float(np.max(np.abs(values))), float(np.max(np.abs(sym_eigs), initial=0.0)))
        resolved = radii <= max(1e-3 * norm, 1e-300)
        j = 0
        while j < values.size - 1 and resolved[j]:
            j += 1
        listed = [*range(j), values.size - 1]
        if run.exhausted and values.size == d_off:
            listed, hidden, low = list(range(values.size)), 0, -np.inf
        else:
            hidden = max(d_off - len(listed), 0)
            low = float(values[j - 1] - radii[j - 1]) if j else -np.inf
        return Spectrum(
            values[listed],
            sym_eigs,
            norm,
            "krylov",
            radii=radii[listed],
            hidden=hidden,
            hidden_low=low,
            orbit_leak=leak,
        )

    def tight(values: np.ndarray, radii: np.ndarray, level: float, norm: float) -> bool:
        # the Ritz vectors used for deflation must be accurate: residuals at 1e-8 ‖H‖
        return bool(np.all(radii[values < level] <= 1e-8 * norm))

    def enough(run: _Run) -> bool:
        spectrum = model(run)
        values, radii, _ = run.ritz()
        if lowest and np.any(radii[: min(lowest, values.size)] > 1e-8 * spectrum.hessian_norm):
            return False
        if not decided(spectrum):
            return False
        level = negative_below(spectrum)
        return level is None or tight(values, radii, level, spectrum.hessian_norm)

    run = _lanczos(apply, project_orbit, rng.standard_normal(d), min(max_steps, d_off), enough)
    steps = len(run.alphas)
    spectrum = model(run)
    level = negative_below(spectrum) if decided(spectrum) else None
    if level is None:
        spectrum.steps = steps
        return spectrum

    # deflation: no copy of a negative eigenvalue may hide behind the ones found
    norm = spectrum.hessian_norm
    values, _, vectors = run.ritz(vectors=True)
    below = values < level
    found_values = [float(v) for v in values[below]]
    found = [vectors[:, i] for i in np.flatnonzero(below)]
    while len(found) < d_off:
        y = np.linalg.qr(np.column_stack(found))[0] if found else np.zeros((d, 0))

        def project(v: np.ndarray, y: np.ndarray = y) -> np.ndarray:
            v = project_orbit(v)
            return v - y @ (y.T @ v)

        def bottom_known(run: _Run, level: float = level, norm: float = norm) -> bool:
            values, radii, _ = run.ritz()
            if values[0] - radii[0] > level:
                return True
            return bool(values[0] + radii[0] < level and tight(values, radii, level, norm))

        remaining = max(min(max_steps, d_off - len(found)), 1)
        again = _lanczos(apply, project, rng.standard_normal(d), remaining, bottom_known)
        steps += len(again.alphas)
        values, radii, vectors = again.ritz(vectors=True)
        new = np.flatnonzero(values + radii < level)
        if not new.size:
            break
        found_values += [float(values[i]) for i in new]
        found += [vectors[:, i] for i in new]
    spectrum = _with_bottom(spectrum, np.sort(np.array(found_values)), level)
    spectrum.steps = steps
    return spectrum


def _with_bottom(spectrum: Spectrum, negatives: np.ndarray, level: float) -> Spectrum:
    """The spectrum with its values below ``level`` replaced by the confirmed ``negatives``."""
    keep = spectrum.eigenvalues[:-1] >= level
    eigs = np.concatenate([negatives, spectrum.eigenvalues[:-1][keep], spectrum.eigenvalues[-1:]])
    radii = np.concatenate(
        [np.zeros(negatives.size), spectrum.radii[:-1][keep], spectrum.radii[-1:]]
    )
    listed_before = spectrum.eigenvalues.size + spectrum.hidden
    spectrum.eigenvalues, spectrum.radii = eigs, radii
    spectrum.hidden = max(listed_before - eigs.size, 0)
    return spectrum


# --------------------------------------------------------------------------- choice
def choose_method(hessian: RiemannianHessian, orbit_size: int, batched: bool) -> str:
    """Return "dense" or "krylov", whichever counts fewer operations (module docstring).

    One Hessian-vector product is timed (its result is discarded); a batched product costs half
    of a single one per vector.  Krylov is expected to take min(d, 60 + 2√d) steps.
    """
    d = hessian.dim
    off = d - orbit_size
    if off <= 64:
        return "dense"
    probe = np.zeros(d)
    probe[0] = 1.0
    start = time.perf_counter()
    hessian.apply_coordinates(probe)
    product = max(time.perf_counter() - start, 1e-7)
    flop = 2e-10  # seconds per flop of one thread (eigvalsh of 1000 × 1000 takes ~0.16 s)
    dense = d * product * (1 / 2 if batched else 1.0) + 0.8 * flop * d**3
    steps = min(off, 60 + 2 * int(np.sqrt(off)))
    krylov = steps * product + 20 * flop * steps * steps * d
    return "dense" if dense <= krylov else "krylov"
