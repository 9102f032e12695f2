"""The rank-1 rule: a length-n vector stands for an n × 1 column, or for x xᴴ on rank-1 matrices."""

from __future__ import annotations

import numpy as np
import pytest
from pymanopt.manifolds import Euclidean, Stiefel

import manifoldscape as ms
from manifoldscape.geometry import SymmetricFixedRank
from manifoldscape.geometry.points import check_point
from manifoldscape.problems import rank1_phase_retrieval, symmetric_factorization


@pytest.mark.parametrize("manifold", [Euclidean(5, 1), Stiefel(5, 1)])
def test_a_vector_is_read_as_a_column(manifold) -> None:
    x = np.arange(1.0, 6.0)
    x /= np.linalg.norm(x)
    checked = check_point(manifold, x)
    assert checked.shape == (5, 1)
    np.testing.assert_array_equal(checked[:, 0], x)


def test_a_wrong_length_names_both_shapes() -> None:
    with pytest.raises(ValueError, match=r"\(5, 1\) \(or \(5,\) for the column\)"):
        check_point(Euclidean(5, 1), np.ones(4))
    with pytest.raises(ValueError, match=r"shape \(5, 2\)"):
        check_point(Euclidean(5, 2), np.ones(5))


@pytest.mark.parametrize("field", ["real", "complex"])
def test_a_vector_on_rank_one_symmetric_matrices_is_the_factor(field: str) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(4)
    if field == "complex":
        x = x + 1j * rng.standard_normal(4)
    manifold = SymmetricFixedRank(4, 1, field=field, psd=True)
    point = check_point(manifold, x)
    np.testing.assert_allclose(point.dense(), np.outer(x, x.conj()), atol=1e-12)
    with pytest.raises(ValueError, match=r"\(4,\) for the rank-1 factor"):
        check_point(manifold, np.ones(3))


def test_rank_one_problems_solve_from_a_vector_start() -> None:
    problem = symmetric_factorization(n=6, r=1, seed=0)
    result = ms.solve(problem, x0=np.ravel(problem.truth) + 0.01, seed=0)
    assert np.shape(result.point) == (6, 1)
    assert result.certificate.verdict is ms.Verdict.LOCAL_MINIMIZER
    problem = rank1_phase_retrieval(n=6, seed=0)
    start = np.random.default_rng(1).standard_normal(6)
    assert ms.solve(problem, x0=start, seed=0).certificate is not None
