"""Small dense landscape work runs on one BLAS thread (``manifoldscape.boundary.threads``)."""

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import manifoldscape as ms
from manifoldscape.boundary import threads
from manifoldscape.problems import phase_retrieval, rayleigh


def _blas_threads() -> set[int]:
    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


def _spy(problem, seen):
    """Record the BLAS thread counts every time the objective prepares a point."""
    prepare = problem.objective.prepare

    def spying(x):
        seen.append(_blas_threads())
        return prepare(x)

    problem.objective.prepare = spying
    return problem


@pytest.mark.parametrize(
    "entry",
    [
        lambda p, x: ms.certify(p, x),
        lambda p, x: ms.census(p, starts=2, seed=0, explore=False),
    ],
)
def test_small_problems_run_on_one_blas_thread_and_restore_it(entry):
    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        seen: list[set[int]] = []
        problem = _spy(rayleigh(n=12, seed=0), seen)
        entry(problem, problem.truth)
        assert seen and all(counts == {1} for counts in seen)
        assert _blas_threads() == before == {2}


def test_large_problems_keep_the_threads_they_were_given():
    assert threads.SMALL_DIMENSION < 300
    with threadpool_limits(limits=2, user_api="blas"):
        seen: list[set[int]] = []
        problem = _spy(phase_retrieval(n=300, m=600, seed=0), seen)
        ms.certify(problem, problem.truth)
        assert seen and all(counts == {2} for counts in seen)


def test_the_limit_keeps_keyword_checks_and_results():
    problem = rayleigh(n=20, seed=1)
    with pytest.raises(TypeError, match="tolerence"):
        ms.certify(problem, problem.truth, tolerence=1.0)
    limited = ms.certify(problem, problem.truth)
    threads.SMALL_DIMENSION, saved = 0, threads.SMALL_DIMENSION
    try:
        free = ms.certify(problem, problem.truth)
    finally:
        threads.SMALL_DIMENSION = saved
    assert limited.verdict == free.verdict and limited.index == free.index
    np.testing.assert_allclose(limited.eigenvalues, free.eigenvalues, rtol=0, atol=1e-12)
