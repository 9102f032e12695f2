"""What every solver returns: ``Result``, its ``History``, ``StopReason`` and evaluation counts."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from scipy.optimize import OptimizeResult

    from manifoldscape.core.certificate import Certificate


class StopReason(enum.Enum):
    """Why a solver stopped; ``converged`` says whether the reason means convergence."""

    GRADIENT_TOLERANCE = "gradient_tolerance"
    STEP_TOLERANCE = "step_tolerance"
    COST_CHANGE_TOLERANCE = "cost_change_tolerance"
    MAX_ITERATIONS = "max_iterations"
    MAX_TIME = "max_time"
    MAX_COST_EVALUATIONS = "max_cost_evaluations"
    NON_FINITE_COST = "non_finite_cost"
    CALLBACK = "callback"

    @property
    def converged(self) -> bool:
        """True for the reasons that mean the solver reached a critical point."""
        return self is StopReason.GRADIENT_TOLERANCE


@dataclass(frozen=True)
class EvaluationCounts:
    """How many times a solver asked for the cost, the gradient and a Hessian-vector product."""

    cost: int = 0
    gradient: int = 0
    hessian: int = 0

    def to_dict(self) -> dict[str, int]:
        """Plain dict for JSON."""
        return {"cost": self.cost, "gradient": self.gradient, "hessian": self.hessian}


@dataclass(frozen=True)
class History:
    """Per-iteration record: iteration 0 is the start point.

    ``step_size`` is the norm of the accepted step that led to the iterate (0 at the start and for
    rejected trust-region steps); ``extra`` holds solver-specific columns (for trust regions:
    radius, rho, inner iterations and the inner stopping reason); ``iterates`` is filled only
    when the solver is asked to keep them.
    """

    cost: np.ndarray = field(default_factory=lambda: np.zeros(0))
    gradient_norm: np.ndarray = field(default_factory=lambda: np.zeros(0))
    step_size: np.ndarray = field(default_factory=lambda: np.zeros(0))
    time_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    iterates: list[Any] | None = None

    def __len__(self) -> int:
        return len(self.cost)

    def to_dict(self) -> dict[str, list]:
        """Plain dict of lists for JSON (iterates left out)."""
        out = {
            "cost": self.cost.tolist(),
            "gradient_norm": self.gradient_norm.tolist(),
            "step_size": self.step_size.tolist(),
            "time_s": self.time_s.tolist(),
        }
        out.update({k: np.asarray(v).tolist() for k, v in self.extra.items()})
        return out


@dataclass(frozen=True)
class Result:
    """The outcome of a solver run, the same for every solver.

    ``point`` is the final iterate (the last finite one if the cost became non-finite);
    ``certificate`` classifies it by its Riemannian Hessian (None only if the caller switched
    certification off).
    """

    solver: str
    problem: str
    point: Any
    cost: float
    gradient_norm: float
    iterations: int
    time_s: float
    stop_reason: StopReason
    stop_message: str
    counts: EvaluationCounts
    history: History
    certificate: Certificate | None = None
    options: dict[str, Any] = field(default_factory=dict)
    #: the Riemannian gradient at ``point`` (None where the solver does not expose it: the
    #: pymanopt wrappers and the batched solvers)
    gradient: Any = None

    @property
    def converged(self) -> bool:
        """Whether the stopping reason means convergence (see ``StopReason.converged``)."""
        return self.stop_reason.converged

    def as_optimize_result(self) -> OptimizeResult:
        """The run as a ``scipy.optimize.OptimizeResult``, for code written against scipy.

        ======== ================================================================================
        field    value
        ======== ================================================================================
        x        ``point``, the final iterate
        fun      ``cost``, f(x)
        success  ``converged``: the stopping reason means convergence (``StopReason.converged``)
        status   the position of ``stop_reason`` in ``StopReason``: 0 is the gradient test
                 (success), any other value says which limit stopped the run
        message  ``stop_message``
        nit      ``iterations``
        nfev     cost evaluations; ``njev`` gradient evaluations; ``nhev`` Hessian-vector products
        jac      ``gradient``: the Riemannian gradient at x (a tangent vector, the same shape
                 as x), or None where the solver does not expose it (the pymanopt wrappers, the
                 batched solvers); its norm is ``gradient_norm``
        ======== ================================================================================

        Further fields: ``gradient_norm``, ``stop_reason`` (the ``StopReason``), ``certificate``
        (``Certificate`` or None; ``certificate.verdict``: minimizer, saddle, maximizer…),
        ``history``, ``solver``, ``problem`` and ``time_s``.  ``success`` is first-order only:
        the second-order verdict is the certificate's.
        """
        from scipy.optimize import OptimizeResult

        return OptimizeResult(
            x=self.point,
            fun=float(self.cost),
            success=self.converged,
            status=list(StopReason).index(self.stop_reason),
            message=self.stop_message,
            nit=int(self.iterations),
            nfev=self.counts.cost,
            njev=self.counts.gradient,
            nhev=self.counts.hessian,
            jac=self.gradient,
            gradient_norm=float(self.gradient_norm),
            stop_reason=self.stop_reason,
            certificate=self.certificate,
            history=self.history,
            solver=self.solver,
            problem=self.problem,
            time_s=float(self.time_s),
        )

    def to_dict(self) -> dict[str, Any]:
        """Summary for JSON output (the point and the history left out)."""
        return {
            "problem": self.problem,
            "solver": self.solver,
            "cost": float(self.cost),
            "gradient_norm": float(self.gradient_norm),
            "iterations": int(self.iterations),
            "time_s": float(self.time_s),
            "stop_reason": self.stop_reason.value,
            "stop_message": self.stop_message,
            "converged": self.converged,
            "counts": self.counts.to_dict(),
            "certificate": None if self.certificate is None else self.certificate.to_dict(),
        }

    def __str__(self) -> str:
        lines = [
            f"solver       {self.solver} on {self.problem}",
            f"cost         {self.cost:.12g}",
            f"‖grad f‖     {self.gradient_norm:.3e}",
            f"iterations   {self.iterations}  ({self.time_s:.3f} s)",
            f"stopped      {self.stop_reason.value}: {self.stop_message}",
            f"evaluations  cost {self.counts.cost}, gradient {self.counts.gradient}, "
            f"Hessian-vector {self.counts.hessian}",
        ]
        if self.certificate is not None:
            lines.append(f"certificate  {self.certificate.summary()}")
        return "\n".join(lines)
