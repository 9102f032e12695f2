"""manifoldscape: landscapes of nonconvex problems with symmetry on Riemannian manifolds.

State a problem on a manifold, solve it with trust-region and gradient methods, and certify what
the solver found — local minimizer, strict saddle of index k, maximizer or degenerate point —
by the Riemannian Hessian, modulo the problem's symmetry group.
"""

import importlib
from typing import Any

from manifoldscape.core import symmetry
from manifoldscape.core.certificate import Certificate, Verdict, certify
from manifoldscape.core.problem import Objective, Problem
from manifoldscape.core.registry import problem_registry, solver_registry
from manifoldscape.core.result import EvaluationCounts, History, Result, StopReason
from manifoldscape.core.workflows import make_problem, make_solver, solve
from manifoldscape.experiments.store import open_store
from manifoldscape.experiments.sweep import SweepResult, sweep
from manifoldscape.landscape.census import Census, census
from manifoldscape.landscape.paths import Connection, connect

__version__ = "0.1.0"

__all__ = [
    "Census",
    "Certificate",
    "Connection",
    "EvaluationCounts",
    "History",
    "Objective",
    "Problem",
    "Result",
    "StopReason",
    "SweepResult",
    "Verdict",
    "__version__",
    "census",
    "certify",
    "connect",
    "make_problem",
    "make_solver",
    "open_store",
    "problem_registry",
    "solve",
    "solver_registry",
    "sweep",
    "symmetry",
    "testing",
]


def __getattr__(name: str) -> Any:
    # ``manifoldscape.testing`` is loaded on first use: it is only needed in test suites
    if name == "testing":
        return importlib.import_module("manifoldscape.testing")
    raise AttributeError(f"module 'manifoldscape' has no attribute {name!r}")
