"""Keyword vocabulary of the public entry points: ``solver=``, renamed and unknown keywords."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import manifoldscape as ms
from manifoldscape.boundary.keywords import checked_keywords
from manifoldscape.problems import rayleigh


def test_census_takes_solver_as_a_name_or_a_sequence():
    problem = rayleigh(n=3, seed=0)
    one = ms.census(problem, 6, seed=1, solver="trust-regions", explore=False)
    many = ms.census(problem, 6, seed=1, solver=("trust-regions",), explore=False)
    assert one.searches == many.searches
    assert "minimize (trust-regions)" in one.searches
    assert [c.cost for c in one.classes] == [c.cost for c in many.classes]


def test_census_old_solvers_keyword_warns_and_still_works():
    problem = rayleigh(n=3, seed=0)
    new = ms.census(problem, 6, seed=1, solver=("trust-regions",), explore=False)
    with pytest.warns(DeprecationWarning, match="solvers= is deprecated, use solver="):
        old = ms.census(problem, 6, seed=1, solvers=("trust-regions",), explore=False)
    assert [(c.cost, c.index, c.count) for c in old.classes] == [
        (c.cost, c.index, c.count) for c in new.classes
    ]


def test_census_refuses_both_solver_and_solvers():
    problem = rayleigh(n=3, seed=0)
    with pytest.raises(TypeError, match="got both solver= and its deprecated old name solvers="):
        ms.census(problem, 2, solver="trust-regions", solvers=("trust-regions",))


@pytest.mark.parametrize(
    ("function", "arguments", "wrong", "valid"),
    [
        (ms.census, 1, "solvr", "solver"),
        (ms.certify, 2, "rtol", "rtol_gradient"),
        (ms.connect, 3, "image", "images"),
    ],
)
def test_unknown_keywords_are_one_line_errors_listing_the_valid_names(
    function, arguments, wrong, valid
):
    problem = rayleigh(n=3, seed=0)
    x = np.array([1.0, 0.0, 0.0])
    args = (problem, x, -x)[:arguments]
    with pytest.raises(TypeError) as error:
        function(*args, **{wrong: 1})
    message = str(error.value)
    assert "\n" not in message
    assert f"unknown keyword(s) '{wrong}'" in message
    assert "valid keywords are: " in message and f" {valid}," in message + ","


def test_signature_still_shows_the_real_parameters():
    parameters = inspect.signature(ms.census).parameters
    assert "solver" in parameters and "solvers" not in parameters
    assert parameters["solver"].default == "trust-regions"
    assert "rtol_gradient" in inspect.signature(ms.certify).parameters


def test_checked_keywords_refuses_a_rename_to_an_unknown_name():
    def f(a: int, *, b: int = 0) -> int:
        return a + b

    with pytest.raises(TypeError, match="renamed keyword 'c'"):
        checked_keywords(renamed={"c": "d"})(f)
    assert checked_keywords(renamed={"c": "b"})(f)(1, b=2) == 3
