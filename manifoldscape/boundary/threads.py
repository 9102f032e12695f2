"""BLAS threads for small dense work: one thread where threads cannot help.

A certificate, and every local model of a census, a cascade graph or a connection, forms a
d × d Riemannian Hessian matrix from a few matrix products and takes its eigendecomposition.
For small d these calls last microseconds, and BLAS/LAPACK threads only add their hand-offs;
on a machine whose cores are busy with something else those hand-offs cost far more than the
work.  Measured on 2 cores with another process running (OpenBLAS, 2 threads by default):
``certify`` of real Gaussian phase retrieval n = 64 took 30 ms against 1.0 ms on one thread, and
a census of the same problem (16 starts) 3.9–7.1 s against 0.47 s.

``small_dense_threads`` runs a landscape entry point (``certify``, ``census``, ``cascade_graph``,
``connect``) on one BLAS thread when its problem's manifold has dimension at most
``SMALL_DIMENSION``, through ``threadpoolctl``; the previous thread counts are restored when the
call returns.  Larger problems, and everything else, keep the thread counts the user set.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

#: problems of at most this manifold dimension run their dense landscape work on one BLAS thread
SMALL_DIMENSION = 256

_F = TypeVar("_F", bound=Callable[..., Any])
_CONTROLLER: list[Any] = []  # [ThreadpoolController] once made, [None] without threadpoolctl


def _controller() -> Any:
    """A ``threadpoolctl.ThreadpoolController`` of the BLAS libraries numpy and scipy load."""
    if not _CONTROLLER:
        try:
            import scipy.linalg  # noqa: F401  (scipy's own BLAS, loaded before the inventory)
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - threadpoolctl is a dependency
            _CONTROLLER.append(None)
        else:
            _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0]


def _dimension(problem: Any) -> int | None:
    try:
        return int(problem.manifold.dim)
    except Exception:  # not a problem, or a manifold without a dimension: leave threads alone
        return None


def small_dense_threads(function: _F) -> _F:
    """Run ``function(problem, ...)`` on one BLAS thread when the problem is small (see above)."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        problem = args[0] if args else kwargs.get("problem")
        dimension = _dimension(problem)
        if dimension is None or dimension > SMALL_DIMENSION:
            return function(*args, **kwargs)
        controller = _controller()
        if controller is None:  # pragma: no cover - threadpoolctl is a dependency
            return function(*args, **kwargs)
        with controller.limit(limits=1, user_api="blas"):
            return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
