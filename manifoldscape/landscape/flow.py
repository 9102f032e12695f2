"""Riemannian gradient flow, integrated accurately, and the transport of subspaces along it.

The cascade of seed 003 (Fig. 7, Fig. 8, §3.1 and Appendix B) is drawn by the gradient flow

    ẋ_t = −grad f(x_t)                                                   (seed 003, eq. B.1)

leaving a saddle along its negative-curvature directions.  ``gradient_flow`` integrates it with
an embedded Runge–Kutta pair — Dormand–Prince 5(4) by default (Dormand and Prince, J. Comput.
Appl. Math. 6, 1980), Bogacki–Shampine 3(2) on request — in the chart ξ ↦ R_x(ξ) of the current
point x: the stages are evaluated at R_x(h Σ a_ij k_j) with the second-order retraction R
(``geometry.second_order_retraction``) and their velocities carried back to T_x M.  On the
sphere the chart inverts exactly (ξ = y/⟨x, y⟩ − x for y = (x + ξ)/‖x + ξ‖), so the stages are
those of the chart's ODE and the pair keeps its order; elsewhere the manifold's vector transport
(the orthogonal projection on embedded manifolds) is the chart's differential up to O(‖ξ‖²),
which keeps order two at least (Celledoni, Marthinsen and Owren, "An introduction to Lie group
integrators", 2014, discuss such constructions).  A step is accepted when the embedded error
estimate is below ``rtol`` times the length of the step (plus a floor of 10⁻⁶ ``rtol`` ℓ, ℓ the
length scale of the problem) and the cost has not increased; relative error control keeps a
stiff component from settling at the tolerance near the end.  Unlike an optimiser it never
jumps: every step is an accurate piece of the flow line.

A connection between two saddles is not generic: the flow line leaving x↑ along an eigenvector u
reaches a lower saddle x↓ only because it stays in a set that the flow leaves invariant (for the
Rayleigh quotient, span{v_i, v_j}; for −Σq⁴, the points with equal active coordinates), and
round-off alone — grown by the unstable directions of x↓ — would push a plain integration off it
toward a minimizer.  With ``constraint`` = blocks Z₁, Z₂, … of orthonormal directions (in the
flattened embedding; the cascade passes the other unstable directions of x↑ and the tangents of
its symmetry orbit), the field integrated is −grad f with its component along the active blocks
removed, so errors along them do not grow.  The removed component is measured at every stage,
and the integration is exact — the constrained field equals the true one along the computed
path — as long as it stays below ``defect_tolerance`` (round-off of the gradient); a block whose
component exceeds it is dropped for the rest of the line and the step redone, so a line whose
invariant set is smaller than assumed, or absent, goes on with the plain flow.  The line's
``defect`` is the largest component removed: a backward-error statement on the path.

``transport_subspace`` then carries a subspace along the computed path by the linearised flow

    v̇_t = −Hess f(x_t)[v_t]                                             (seed 003, eq. B.2)

with the same Runge–Kutta stages (re-orthonormalised after every step: only the span matters),
and ``principal_angles`` compares it with the unstable subspace at the end of the path: the
dispersive structure of seed 003 Appendix B says the downstream negative-curvature directions lie
in the image of the upstream ones, i.e. the largest principal angle is zero.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from manifoldscape.core.problem import Problem
from manifoldscape.geometry import point_norm, second_order_retraction

__all__ = [
    "FlatTangent",
    "FlowLine",
    "gradient_flow",
    "principal_angles",
    "transport_subspace",
]


@dataclass(frozen=True)
class _Tableau:
    """An explicit embedded Runge–Kutta pair with the FSAL property (last stage = new point).

    ``a`` the stage coefficients (row i: the weights of k_1 … k_i for stage i + 1; the last row
    is the solution weights b), ``e`` the weights of the error estimate (b − b̂, one per stage
    including the FSAL one), ``order`` the order of the error estimate's lower method.
    """

    name: str
    a: tuple[tuple[float, ...], ...]
    e: tuple[float, ...]
    order: int


#: Bogacki and Shampine, Appl. Math. Lett. 2, 321 (1989): 3(2), three new stages per step
BOGACKI_SHAMPINE = _Tableau(
    "Bogacki–Shampine 3(2)",
    ((0.5,), (0.0, 0.75), (2 / 9, 1 / 3, 4 / 9)),
    (-5 / 72, 1 / 12, 1 / 9, -1 / 8),
    2,
)
#: Dormand and Prince, J. Comput. Appl. Math. 6, 19 (1980): 5(4), six new stages per step
DORMAND_PRINCE = _Tableau(
    "Dormand–Prince 5(4)",
    (
        (1 / 5,),
        (3 / 40, 9 / 40),
        (44 / 45, -56 / 15, 32 / 9),
        (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
        (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
        (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84),
    ),
    (71 / 57600, 0.0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40),
    4,
)
TABLEAUS = {"bogacki-shampine": BOGACKI_SHAMPINE, "dormand-prince": DORMAND_PRINCE}


def _combination(h: float, weights: tuple[float, ...], vectors: list[Any]) -> Any:
    out = None
    for w, v in zip(weights, vectors, strict=False):
        if w == 0.0:
            continue
        out = (h * w) * v if out is None else out + (h * w) * v
    return 0.0 * vectors[0] if out is None else out


# --------------------------------------------------------------------------- flat vectors
class FlatTangent:
    """Tangent vectors as flat real vectors of the embedding, when the metric allows it.

    ``flat(v)`` concatenates the (real and imaginary parts of the) arrays of v; ``unflat``
    inverts it.  ``exact`` says whether the Riemannian metric is the flat inner product of these
    vectors (checked on random tangent vectors at the point: true for the sphere, Stiefel,
    Grassmann, SO(n), Euclidean spaces and their products).
    """

    def __init__(self, problem: Problem, x: Any, rng: np.random.Generator):
        from manifoldscape.geometry import random_tangent_vector

        self.manifold = problem.manifold
        u = random_tangent_vector(self.manifold, x, rng)
        self._template = u
        try:
            v = random_tangent_vector(self.manifold, x, rng)
            metric = float(np.real(self.manifold.inner_product(x, u, v)))
            flat = float(self.flat(u) @ self.flat(v))
            norm = point_norm(u) * point_norm(v)
            self.exact = abs(metric - flat) <= 1e-10 * max(norm, 1e-300)
            self.exact = self.exact and np.allclose(self.unflat(self.flat(v)) - v, 0.0)
        except (TypeError, ValueError, AttributeError):
            self.exact = False

    @staticmethod
    def flat(vector: Any) -> np.ndarray:
        """The real flat vector of a tangent vector."""
        if isinstance(vector, (list, tuple)):
            return np.concatenate([FlatTangent.flat(p) for p in vector])
        a = np.asarray(vector)
        if np.iscomplexobj(a):
            return np.concatenate([a.real.ravel(), a.imag.ravel()])
        return a.ravel().astype(float, copy=False)

    def unflat(self, vector: np.ndarray) -> Any:
        """The tangent vector of a flat vector (the structure of the point's tangent vectors)."""
        out, _ = self._unflat(vector, self._template, 0)
        return out

    def _unflat(self, vector: np.ndarray, like: Any, start: int) -> tuple[Any, int]:
        if isinstance(like, (list, tuple)):
            parts = []
            for p in like:
                part, start = self._unflat(vector, p, start)
                parts.append(part)
            return type(like)(*parts) if hasattr(type(like), "m") else type(like)(parts), start
        a = np.asarray(like)
        size = a.size
        if np.iscomplexobj(a):
            re = vector[start : start + size]
            im = vector[start + size : start + 2 * size]
            return (re + 1j * im).reshape(a.shape), start + 2 * size
        return vector[start : start + size].reshape(a.shape), start + size


# --------------------------------------------------------------------------- geometry
class _Geometry:
    """Cost and gradient from one ``prepare``, projection, transport, norm, retraction.

    The objective is evaluated directly (one ``prepare`` shared by cost and gradient, as the
    ``Problem`` does, without its point cache, which costs more than the evaluation at small n),
    and grad f = P_x ∇f through the manifold.  On Sphere(n) with real points the formulas are
    pymanopt's, written out: grad f = ∇f − x⟨x, ∇f⟩, the transport is that projection at the
    target, the norm is the flat one, R_x(u) = (x + u)/‖x + u‖ and, for a batch of tangent
    vectors U, Hess f(x)[U] = P_x ∇²f(x)[U] − ⟨x, ∇f(x)⟩ U (the Weingarten term of the sphere).
    """

    def __init__(self, problem: Problem, x: Any):
        from pymanopt.manifolds import Sphere

        from manifoldscape.geometry import as_tangent

        self.problem = problem
        self.objective = problem.objective
        self.manifold = problem.manifold
        self.as_tangent = as_tangent
        self.sphere = isinstance(self.manifold, Sphere) and isinstance(x, np.ndarray)
        self.sphere = self.sphere and not np.iscomplexobj(x)

    def evaluate(self, x: Any) -> tuple[float, Any]:
        """(f(x), grad f(x))."""
        data = self.objective.prepare(x)
        cost = float(self.objective.cost(x, data))
        e = self.objective.euclidean_gradient(x, data)
        if self.sphere:
            return cost, e - x * float(np.vdot(x, e))
        g = self.manifold.euclidean_to_riemannian_gradient(x, e)
        return cost, self.as_tangent(self.manifold, g)

    def projection(self, x: Any, v: Any) -> Any:
        if self.sphere:
            return v - x * float(np.vdot(x, v))
        return self.manifold.projection(x, v)

    def transport(self, x_from: Any, x_to: Any, v: Any) -> Any:
        if self.sphere:
            return v - x_to * float(np.vdot(x_to, v))
        return self.manifold.transport(x_from, x_to, v)

    def to_chart(self, x: Any, y: Any, w: Any) -> Any:
        """A velocity w ∈ T_y M as the velocity of ξ in the chart y = R_x(ξ) (vector in T_x M).

        On the sphere the chart of R_x(ξ) = (x + ξ)/‖x + ξ‖ inverts exactly, ξ = y/⟨x, y⟩ − x,
        so ξ' = (w − y ⟨x, w⟩/⟨x, y⟩)/⟨x, y⟩ and the Runge–Kutta stages keep the order of the
        tableau; elsewhere the transport (projection) is the chart's differential to O(‖ξ‖²).
        """
        if self.sphere:
            c = float(np.vdot(x, y))
            return (w - y * (float(np.vdot(x, w)) / c)) / c
        return self.manifold.transport(y, x, w)

    def norm(self, x: Any, v: Any) -> float:
        if self.sphere:
            return float(np.linalg.norm(v))
        return float(self.manifold.norm(x, v))

    def retraction(self, x: Any, v: Any) -> Any:
        if self.sphere:
            y = x + v
            return y / np.linalg.norm(y)
        return second_order_retraction(self.manifold, x, v)

    # ------------------------------------------------------------------ batches of flat vectors
    def project_flat(self, x: Any, w: np.ndarray, flat: FlatTangent) -> np.ndarray:
        """P_x applied to the columns of w (flat vectors)."""
        if self.sphere:
            xf = np.ravel(x)
            return w - np.outer(xf, xf @ w)
        columns = [flat.flat(self.manifold.projection(x, flat.unflat(c))) for c in w.T]
        return np.stack(columns, axis=1) if columns else w

    def hessian_flat(self, x: Any, w: np.ndarray, flat: FlatTangent) -> np.ndarray:
        """Hess f(x) applied to the columns of w (flat tangent vectors at x)."""
        if w.shape[1] == 0:
            return w
        if self.sphere and self.objective.batched_hessian and np.ndim(x) == 1:
            data = self.objective.prepare(x)
            e = self.objective.euclidean_gradient(x, data)
            ehess = np.asarray(self.objective.euclidean_hessian(x, data, w.T)).T
            return self.project_flat(x, ehess, flat) - float(x @ e) * w
        from manifoldscape.geometry import stack_batch

        vectors = [flat.unflat(c) for c in w.T]
        images = self.problem.riemannian_hessian_batch(x, stack_batch(vectors), len(vectors))
        return np.stack([flat.flat(v) for v in images], axis=1)


# --------------------------------------------------------------------------- the flow
@dataclass
class _Step:
    """One accepted step: from ``x`` with step ``h``, stage points, to ``x_next``."""

    x: Any
    h: float
    stages: tuple[Any, ...]
    x_next: Any
    tableau: _Tableau


@dataclass
class FlowLine:
    """A computed piece of gradient flow line, from ``start`` to ``end``.

    ``status`` is "converged" (‖grad f(end)‖ ≤ the requested gradient), "captured" (see
    ``gradient_flow``), "time" (the requested flow time was reached), "max_steps",
    "diverged" (left every bounded region or met a non-finite cost) or "stalled" (the step size
    underflowed).  ``constrained`` tells whether the whole line was integrated with the
    invariant-set constraint (module docstring) and ``defect`` the largest gradient component it
    removed; ``time`` is the flow time covered.
    """

    start: Any
    end: Any
    cost_start: float
    cost_end: float
    gradient_norm: float
    status: str
    steps: int
    time: float
    constrained: bool
    defect: float
    evaluations: int
    record: list[_Step] = field(default_factory=list, repr=False)
    captured: Any = None

    @property
    def converged(self) -> bool:
        """Whether the line ended with a small gradient or was captured by a known point."""
        return self.status in ("converged", "captured")


class _Field:
    """The vector field −grad f, with each block of the invariant-set constraint while it holds."""

    def __init__(
        self,
        geometry: _Geometry,
        constraint: Sequence[np.ndarray] | None,
        flat: FlatTangent | None,
        defect_tolerance: float,
    ):
        self.geometry = geometry
        blocks = [] if constraint is None or flat is None else list(constraint)
        self.blocks = [b for b in blocks if b.shape[1]]
        self.z = np.concatenate(self.blocks, axis=1) if self.blocks else None
        self.flat = flat
        self.defect_tolerance = defect_tolerance
        self.defect = 0.0
        self.evaluations = 0
        self.dropped = 0

    @property
    def constrained(self) -> bool:
        return self.z is not None

    def __call__(self, x: Any) -> tuple[Any, float, float]:
        """(F(x), ‖grad f(x)‖, f(x)); drops a block for good when its defect is too large."""
        self.evaluations += 1
        cost, grad = self.geometry.evaluate(x)
        gnorm = self.geometry.norm(x, grad)
        if self.z is None:
            return -1.0 * grad, gnorm, cost
        g = self.flat.flat(grad)
        kept = []
        for block in self.blocks:
            if float(np.linalg.norm(block.T @ g)) <= self.defect_tolerance:
                kept.append(block)
        if len(kept) < len(self.blocks):
            self.dropped += len(self.blocks) - len(kept)
            self.blocks = kept
            self.z = np.concatenate(kept, axis=1) if kept else None
            if self.z is None:
                return -1.0 * grad, gnorm, cost
        c = self.z.T @ g
        self.defect = max(self.defect, float(np.linalg.norm(c)))
        kept_gradient = self.geometry.projection(x, self.flat.unflat(g - self.z @ c))
        return -1.0 * kept_gradient, gnorm, cost


def gradient_flow(
    problem: Problem,
    x0: Any,
    *,
    stop_gradient: float,
    length: float,
    rtol: float = 1e-3,
    initial_step: float | None = None,
    max_steps: int = 5000,
    constraint: Sequence[np.ndarray] | None = None,
    flat: FlatTangent | None = None,
    defect_tolerance: float = 0.0,
    keep_steps: bool = False,
    capture: Any = None,
    capture_gradient: float = 0.0,
    until: float | None = None,
    method: str = "dormand-prince",
) -> FlowLine:
    """Integrate ẋ = −grad f(x) from ``x0`` until ‖grad f‖ ≤ ``stop_gradient`` (docstring above).

    The local error of a step (in the Riemannian norm) is kept below ``rtol`` times the step's
    length plus 10⁻⁶ ``rtol`` ``length``; ``initial_step`` is the first step's flow time
    (default 0.1 ℓ / ‖grad f(x₀)‖).  ``constraint`` holds blocks (N × m matrices, columns
    orthonormal together, in the flat vectors of ``flat``) each removed from the field while
    its component of the gradient stays at most ``defect_tolerance``.  ``keep_steps`` keeps the
    accepted steps for ``transport_subspace``.
    ``capture(x, constraint)`` (``constraint`` the active Z or None) is called after every
    accepted step with ‖grad f(x)‖ ≤ ``capture_gradient``; a result other than None ends the
    line with status "captured" and is kept as ``captured``: the caller's proof that the rest of
    the line goes to a known critical point.  With ``until`` the line stops at that flow time
    (status "time"), the last step shortened to land on it.  ``method`` is the Runge–Kutta pair,
    "dormand-prince" (5(4), default) or "bogacki-shampine" (3(2)).
    """
    if method not in TABLEAUS:
        raise ValueError(f"method must be one of {', '.join(TABLEAUS)}, got {method!r}")
    tableau = TABLEAUS[method]
    geometry = _Geometry(problem, x0)
    field_ = _Field(geometry, constraint, flat, defect_tolerance)
    constrained_throughout = field_.constrained
    x = x0
    k1, gnorm, cost = field_(x)
    cost_start = cost
    constrained_throughout = constrained_throughout and field_.constrained
    tolerance = 1e-6 * rtol * length
    divergence = 1e6 * max(length, point_norm(x0))
    if initial_step is None:
        initial_step = 0.1 * length / max(gnorm, 1e-300)
    h = float(initial_step)
    t = 0.0
    steps = 0
    record: list[_Step] = []
    status = "max_steps"
    captured = None
    # a decrease of the cost below this is round-off, not an increase
    cost_slack = 1e-13 * (abs(cost) + 1.0)
    while steps < max_steps:
        if gnorm <= stop_gradient:
            status = "converged"
            break
        if until is not None and t >= until:
            status = "time"
            break
        if not math.isfinite(h) or h <= 1e-14 * max(t, 1.0):
            status = "stalled"
            break
        if until is not None:
            h = min(h, until - t)
        dropped = field_.dropped
        ks, points = [k1], []
        f_new = g_new = cost_new = None
        for row in tableau.a:
            point = geometry.retraction(x, _combination(h, row, ks))
            f_i, g_i, cost_i = field_(point)
            ks.append(geometry.to_chart(x, point, f_i))
            points.append(point)
            f_new, g_new, cost_new = f_i, g_i, cost_i
        x_new = points[-1]
        if field_.dropped > dropped:
            # a block of the constraint stopped holding inside this step: redo the step
            constrained_throughout = field_.constrained and constrained_throughout
            k1, gnorm, _ = field_(x)
            continue
        error = _combination(h, tableau.e, ks)
        # relative to the step (a stiff component cannot settle at the tolerance) plus a floor
        step_size = h * geometry.norm(x, k1)
        error_norm = geometry.norm(x, error) / (rtol * step_size + tolerance)
        if not math.isfinite(cost_new) or point_norm(x_new) > divergence:
            if h < 1e-8:
                status = "diverged"
                break
            h *= 0.25
            continue
        exponent = -1.0 / (tableau.order + 1)
        if error_norm > 1.0 or cost_new > cost + cost_slack:
            h *= max(0.2, 0.9 * error_norm**exponent) if error_norm > 1.0 else 0.5
            continue
        if keep_steps:
            record.append(_Step(x, h, tuple(points[:-1]), x_new, tableau))
        x, k1, gnorm, cost = x_new, f_new, g_new, cost_new
        t += h
        steps += 1
        if capture is not None and gnorm <= capture_gradient:
            captured = capture(x, field_.z)
            if captured is not None:
                status = "captured"
                break
        h *= min(5.0, 0.9 * max(error_norm, 1e-12) ** exponent)
    return FlowLine(
        start=x0,
        end=x,
        cost_start=float(cost_start),
        cost_end=float(cost),
        gradient_norm=float(gnorm),
        status=status,
        steps=steps,
        time=t,
        constrained=bool(constrained_throughout and field_.constrained),
        defect=field_.defect,
        evaluations=field_.evaluations,
        record=record,
        captured=captured,
    )


# --------------------------------------------------------------------------- transport
def transport_subspace(
    problem: Problem, line: FlowLine, vectors: list[Any], flat: FlatTangent
) -> list[Any]:
    """Carry span(``vectors``) ⊂ T_{start} M along ``line`` by the linearised flow (eq. B.2).

    The accepted steps of the line are replayed with the Runge–Kutta stages of the flow applied
    to V̇ = −Hess f(x_t)[V] (batched Hessian-vector products at the stored stage points), and
    the vectors are re-orthonormalised after every step (flat metric: ``flat.exact``).  Returns
    an orthonormal basis of the image at ``line.end``, as tangent vectors.
    """
    if not flat.exact:
        raise ValueError("transport_subspace needs a manifold whose metric is the flat one")
    geometry = _Geometry(problem, line.start)
    w = _orthonormal([flat.flat(v) for v in vectors])
    for step in line.record:
        x, h = step.x, step.h
        ks = [-geometry.hessian_flat(x, w, flat)]
        for row, point in zip(step.tableau.a[:-1], step.stages, strict=True):
            stage = geometry.project_flat(point, w + _combination(h, row, ks), flat)
            image = geometry.hessian_flat(point, stage, flat)
            ks.append(-geometry.project_flat(x, image, flat))
        moved = w + _combination(h, step.tableau.a[-1], ks)
        w = np.linalg.qr(geometry.project_flat(step.x_next, moved, flat))[0]
    return [flat.unflat(c) for c in w.T]


def _orthonormal(columns: list[np.ndarray]) -> np.ndarray:
    if not columns:
        return np.zeros((0, 0))
    return np.linalg.qr(np.stack(columns, axis=1))[0]


def principal_angles(basis_a: np.ndarray, basis_b: np.ndarray) -> np.ndarray:
    """Principal angles (ascending) of span(basis_b) against span(basis_a), one per column of b.

    θ_k = arcsin σ_k((I − Q_a Q_aᵀ) Q_b): zero exactly when the column of b lies in span(a);
    accurate for small angles (no arccos of numbers near 1).  Columns need not be orthonormal.
    """
    if basis_b.shape[1] == 0:
        return np.zeros(0)
    qb = np.linalg.qr(basis_b)[0]
    if basis_a.shape[1] == 0:
        return np.full(qb.shape[1], np.pi / 2)
    qa = np.linalg.qr(basis_a)[0]
    residual = qb - qa @ (qa.T @ qb)
    sines = np.linalg.svd(residual, compute_uv=False)
    return np.sort(np.arcsin(np.clip(sines, 0.0, 1.0)))
