"""``ms.solve``'s scipy-facing interface: callback forms, ``verbosity`` logging, OptimizeResult."""

import functools

import numpy as np
import pytest

import manifoldscape as ms
from manifoldscape.boundary import callback_arity
from manifoldscape.core.result import StopReason
from manifoldscape.problems import rayleigh

OURS = ["trust-regions", "gradient-descent"]


@pytest.fixture(scope="module")
def problem():
    return rayleigh(n=20, seed=0)


# --------------------------------------------------------------------------- callbacks
@pytest.mark.parametrize("name", OURS)
def test_scipy_style_callback_gets_every_iterate_and_can_stop(problem, name):
    points = []
    result = ms.solve(
        problem, name, seed=2, callback=points.append, keep_iterates=True, certify=False
    )
    assert len(points) == result.iterations + 1
    for seen, kept in zip(points, result.history.iterates, strict=True):
        assert np.array_equal(seen, kept)

    def stop_after_three(x):
        stop_after_three.calls += 1
        return stop_after_three.calls == 4  # truthy at iteration 3

    stop_after_three.calls = 0
    stopped = ms.solve(problem, name, seed=2, callback=stop_after_three, certify=False)
    assert stopped.stop_reason is StopReason.CALLBACK
    assert stopped.iterations == 3
    assert np.array_equal(stopped.history.cost, result.history.cost[:4])


def test_two_argument_callback_still_gets_iteration_and_info(problem):
    seen = []
    ms.solve(problem, seed=2, callback=lambda k, info: seen.append((k, info.cost)), certify=False)
    assert [k for k, _ in seen] == list(range(len(seen)))


@pytest.mark.parametrize(
    ("callback", "arity"),
    [
        (lambda x: None, 1),
        (lambda x, extra=None: None, 1),
        (lambda k, info: None, 2),
        (lambda *args: None, 2),
        (functools.partial(lambda a, k, info: None, 0), 2),
        (print, 2),  # no readable signature on some Pythons: the two-argument form
        (None, None),
    ],
)
def test_callback_arity(callback, arity):
    assert callback_arity(callback) == arity


@pytest.mark.parametrize(
    "callback", [lambda: None, lambda a, b, c: None, lambda x, *, key: None, 42]
)
def test_callback_of_neither_form_is_refused_in_one_line(problem, callback):
    with pytest.raises(TypeError, match=r"callback\(x\) or callback\(iteration, info\)") as info:
        ms.solve(problem, seed=0, callback=callback)
    assert "\n" not in str(info.value)


# --------------------------------------------------------------------------- OptimizeResult
def test_as_optimize_result_maps_every_field(problem):
    from scipy.optimize import OptimizeResult

    result = ms.solve(problem, seed=1)
    out = result.as_optimize_result()
    assert isinstance(out, OptimizeResult)
    assert out.x is result.point
    assert out.fun == result.cost == problem.cost(out.x)
    assert out.success is True and out.status == 0
    assert out.nit == result.iterations and out.message == result.stop_message
    assert (out.nfev, out.njev, out.nhev) == (
        result.counts.cost,
        result.counts.gradient,
        result.counts.hessian,
    )
    assert out.gradient_norm == result.gradient_norm
    assert np.shape(out.jac) == np.shape(out.x)
    assert np.linalg.norm(out.jac) == pytest.approx(result.gradient_norm, rel=1e-12, abs=1e-300)
    np.testing.assert_allclose(
        out.jac, problem.riemannian_gradient(out.x), atol=1e-12 * max(1.0, abs(out.fun))
    )
    assert out.certificate is result.certificate
    assert out.certificate.verdict is ms.Verdict.LOCAL_MINIMIZER


def test_as_optimize_result_of_a_stopped_run_is_not_a_success(problem):
    out = ms.solve(problem, "gradient-descent", seed=1, max_iterations=2, certify=False)
    out = out.as_optimize_result()
    assert out.success is False and out.status != 0 and out.nit == 2
    assert out.stop_reason is StopReason.MAX_ITERATIONS and out.certificate is None
    stopped = ms.solve(problem, "gradient-descent", seed=1, max_iterations=2, certify=False)
    # not converged: the gradient at the last iterate is far from zero, and jac says so
    assert np.linalg.norm(out.jac) == pytest.approx(stopped.gradient_norm, rel=1e-12)


# --------------------------------------------------------------------------- verbosity
def _lines(caplog, level):
    return [r for r in caplog.records if r.name.startswith("manifoldscape") and r.levelno == level]


@pytest.fixture
def quiet_package():
    """The ``manifoldscape`` logger at its default level (NOTSET), as a user would have it."""
    package = __import__("logging").getLogger("manifoldscape")
    previous = package.level
    package.setLevel(0)
    yield package
    assert package.level == 0  # solve restored it
    package.setLevel(previous)


def test_verbosity_0_logs_nothing_below_warning(problem, caplog, quiet_package):
    ms.solve(problem, seed=0)
    assert not [r for r in caplog.records if r.levelno < 30]


def test_verbosity_1_logs_one_info_line_at_the_end(problem, caplog, quiet_package):
    # caplog's handler takes every level; what is logged is what solve lets through
    result = ms.solve(problem, seed=0, verbosity=1)
    (line,) = _lines(caplog, 20)
    text = line.getMessage()
    assert "gradient_tolerance" in text and f"after {result.iterations} iterations" in text
    assert "cost -" in text and "|grad|" in text and "local_minimizer" in text
    assert not _lines(caplog, 10)


@pytest.mark.parametrize("name", ["gradient-descent", "pymanopt-steepest-descent"])
def test_verbosity_2_adds_one_line_per_iteration(problem, caplog, quiet_package, name):
    result = ms.solve(problem, name, seed=0, verbosity=2, max_iterations=5)
    per_iteration = [r.getMessage() for r in _lines(caplog, 10) if " k=" in r.getMessage()]
    assert len(per_iteration) == len(result.history) == result.iterations + 1
    assert per_iteration[-1].startswith(f"{name} k={result.iterations} ")
    assert len(_lines(caplog, 20)) == 1


@pytest.mark.parametrize(("value", "error"), [(3, ValueError), (-1, ValueError), ("1", TypeError)])
def test_invalid_verbosity_is_refused_listing_the_valid_values(problem, value, error):
    with pytest.raises(error, match=r"verbosity must be 0, 1 or 2"):
        ms.solve(problem, seed=0, verbosity=value)


def test_a_stderr_handler_only_when_none_is_configured_and_only_for_the_call(monkeypatch):
    import logging

    from manifoldscape.core.workflows import _logging_for

    package = logging.getLogger("manifoldscape")
    before = list(package.handlers)
    with _logging_for(1):
        assert package.handlers == before  # pytest's handlers are configured: none added
    monkeypatch.setattr(logging.Logger, "hasHandlers", lambda self: False)
    with _logging_for(2):
        (added,) = [h for h in package.handlers if h not in before]
        assert isinstance(added, logging.StreamHandler)
        assert package.getEffectiveLevel() == logging.DEBUG
    assert package.handlers == before
    with _logging_for(0):
        assert package.handlers == before
