"""The solver library, installed as ``manifoldscape.solvers``.

Each module is one method; importing this package registers every solver in
``manifoldscape.solver_registry`` (name → factory taking the options as keywords and returning a
configured solver with ``.run(problem, x0=None, *, seed=None, callback=None, ...) -> Result``).
"""

if __name__ != "manifoldscape.solvers":  # pragma: no cover - guard against a stray sys.path
    raise ImportError(
        f"the solver library must be imported as 'manifoldscape.solvers', not {__name__!r}; "
        "install the project (pip install -e .) instead of putting its folders on sys.path"
    )

from manifoldscape.core.registry import solver_registry
from manifoldscape.solvers.arc import AdaptiveCubicRegularization
from manifoldscape.solvers.batched import batched_gradient_descent
from manifoldscape.solvers.deflation import DeflationResult, RestrictedObjective, deflate
from manifoldscape.solvers.gradient_descent import GradientDescent
from manifoldscape.solvers.lbfgs import RiemannianLBFGS
from manifoldscape.solvers.perturbed_gradient import PerturbedGradientDescent
from manifoldscape.solvers.power_iteration import FixedPointIteration
from manifoldscape.solvers.pymanopt_wrappers import (
    PymanoptConjugateGradient,
    PymanoptSteepestDescent,
    PymanoptTrustRegions,
)
from manifoldscape.solvers.subgradient import RiemannianSubgradient
from manifoldscape.solvers.trust_regions import (
    InnerStop,
    TruncatedConjugateGradient,
    TrustRegions,
)
from manifoldscape.solvers.trust_regions_batched import batched_trust_regions

solver_registry.register(
    "trust-regions",
    TrustRegions.factory(),
    "Riemannian trust regions with truncated CG (Absil–Baker–Gallivan 2007); the default",
    batched=batched_trust_regions,
)
solver_registry.register(
    "gradient-descent",
    GradientDescent.factory(),
    "Riemannian gradient descent with a fixed step size (the seeds' vanilla gradient descent)",
    batched=batched_gradient_descent,
)
solver_registry.register(
    "pymanopt-trust-regions",
    PymanoptTrustRegions.factory(),
    "pymanopt's TrustRegions (no callback, no per-iteration history)",
)
solver_registry.register(
    "pymanopt-steepest-descent",
    PymanoptSteepestDescent.factory(),
    "pymanopt's SteepestDescent with backtracking line search (no callback)",
)
solver_registry.register(
    "pymanopt-conjugate-gradient",
    PymanoptConjugateGradient.factory(),
    "pymanopt's ConjugateGradient (no callback)",
)
solver_registry.register(
    "subgradient",
    RiemannianSubgradient.factory(),
    "Riemannian subgradient method with geometrically decaying steps (nonsmooth ℓ1 objectives)",
)
solver_registry.register(
    "msp",
    FixedPointIteration.factory(),
    "fixed-point / power iteration x ← P(−∇f(x)) on sphere, Stiefel, SO(n) (MSP for −ℓ4)",
)

solver_registry.register(
    "perturbed-gradient-descent",
    PerturbedGradientDescent.factory(),
    "Riemannian gradient descent with random tangent-ball perturbations at small gradients "
    "(Jin et al. 2017; Criscitiello–Boumal 2019): escapes strict saddles",
)
solver_registry.register(
    "arc",
    AdaptiveCubicRegularization.factory(),
    "Riemannian adaptive regularization with cubics, Lanczos subproblem solver "
    "(Agarwal–Boumal–Bullins–Cartis 2021): second-order critical points",
)
solver_registry.register(
    "lbfgs",
    RiemannianLBFGS.factory(),
    "Riemannian limited-memory BFGS with vector transport and Armijo backtracking "
    "(Huang–Gallivan–Absil 2015)",
)

__all__ = [
    "AdaptiveCubicRegularization",
    "DeflationResult",
    "FixedPointIteration",
    "GradientDescent",
    "InnerStop",
    "PerturbedGradientDescent",
    "PymanoptConjugateGradient",
    "PymanoptSteepestDescent",
    "PymanoptTrustRegions",
    "RestrictedObjective",
    "RiemannianLBFGS",
    "RiemannianSubgradient",
    "TruncatedConjugateGradient",
    "TrustRegions",
    "batched_gradient_descent",
    "batched_trust_regions",
    "deflate",
]
