"""``ms.connect``: the index-1 saddle between two minima, on landscapes where it is known.

* −Σ⟨a_k, x⟩⁴ on S^{n−1} (seed 003 eq. 3.17): between the minimizers a_i and a_j the transition
  state is (a_i + a_j)/√2, cost −1/2, Hessian eigenvalues −4 (toward a_i − a_j) and +2.
* One-sparse dictionary learning on S² with the Huber loss (seed 003 §3.1, eqs. 3.5–3.10):
  between e_i and e_j the saddle is (e_i + e_j)/√2, index 1.
* Rayleigh quotient: between the two minimizers +v₁ and −v₁ (antipodes: the band starts through
  a random midpoint) the saddle is ±v₂ with barrier λ₁ − λ₂.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import manifoldscape as ms
from manifoldscape.cli import main
from manifoldscape.problems import dictionary_learning_one_sparse, rayleigh, tensor_decomposition


def _assert_transition_state(result, expected_cost):
    c = result.certificate
    assert c is not None, result.summary()
    assert c.verdict is ms.Verdict.STRICT_SADDLE and c.index == 1 and c.index_exact
    assert c.cost == pytest.approx(expected_cost, abs=1e-12)
    assert result.joins and result.is_transition_state
    assert result.band_converged
    assert max(result.costs) == result.costs[result.highest]


def test_connect_l4_sphere_minimizers():
    problem = tensor_decomposition(n=4, manifold="sphere", seed=0)
    a = problem.objective.components
    result = ms.connect(problem, a[:, 0], a[:, 1])
    _assert_transition_state(result, -0.5)
    expected = (a[:, 0] + a[:, 1]) / np.sqrt(2)
    assert np.linalg.norm(result.saddle - expected) < 1e-10
    assert result.certificate.min_eigenvalue == pytest.approx(-4.0, abs=1e-9)
    assert result.barrier == pytest.approx((0.5, 0.5), abs=1e-12)
    # the descents end at the two given minimizers, one each
    ends = sorted(int(np.argmax(np.abs(a.T @ d))) for d in result.descents)
    assert ends == [0, 1]


def test_connect_one_sparse_dictionary_learning():
    problem = dictionary_learning_one_sparse(n=3)
    e = np.eye(3)
    result = ms.connect(problem, e[0], e[2])
    saddle_cost = problem.cost((e[0] + e[2]) / np.sqrt(2))
    _assert_transition_state(result, saddle_cost)
    assert np.linalg.norm(result.saddle - (e[0] + e[2]) / np.sqrt(2)) < 1e-10


def test_connect_rayleigh_antipodal_minimizers_through_v2():
    problem = rayleigh(n=5, seed=0)
    lam, v = problem.objective.eigenvalues, problem.objective.eigenvectors
    result = ms.connect(problem, v[:, 0], -v[:, 0], seed=3)
    _assert_transition_state(result, -lam[1])
    assert abs(v[:, 1] @ result.saddle) == pytest.approx(1.0, abs=1e-12)
    assert result.barrier == pytest.approx((lam[0] - lam[1],) * 2, abs=1e-12)


def test_connect_json_plot_and_refusals():
    import matplotlib

    matplotlib.use("Agg")
    problem = tensor_decomposition(n=3, manifold="sphere", seed=1)
    a = problem.objective.components
    result = ms.connect(problem, a[:, 0], -a[:, 2], images=5)
    data = json.loads(json.dumps(result.to_json(), allow_nan=False))
    assert data["transition_state"] is True and data["saddle"]["index"] == 1
    assert len(data["costs"]) == 7
    assert result.plot().axes
    with pytest.raises(ValueError, match="same point"):
        ms.connect(problem, a[:, 0], a[:, 0])
    with pytest.raises(ValueError, match="x_b"):
        ms.connect(problem, a[:, 0], np.ones(4))
    with pytest.raises(ValueError, match="images must be at least 3"):
        ms.connect(problem, a[:, 0], a[:, 1], images=2)
    with pytest.raises(TypeError, match="problem must be a manifoldscape Problem"):
        ms.connect("tensor", a[:, 0], a[:, 1])


def test_cli_connect(tmp_path, capsys):
    problem = ms.make_problem("tensor_decomposition", n=3, manifold="sphere", seed=0)
    a = problem.objective.components
    np.save(tmp_path / "a.npy", a[:, 0])
    np.save(tmp_path / "b.npy", a[:, 1])
    base = ["connect", "tensor_decomposition", "--param", "n=3", "--param", "manifold=sphere"]
    files = ["--from", str(tmp_path / "a.npy"), "--to", str(tmp_path / "b.npy")]
    saddle_file = tmp_path / "s.npy"
    assert main([*base, *files, "--json", "--save-saddle", str(saddle_file)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["transition_state"] is True and data["saddle_file"] == str(saddle_file)
    saddle = np.load(saddle_file)
    assert np.linalg.norm(saddle - (a[:, 0] + a[:, 1]) / np.sqrt(2)) < 1e-10
    assert main([*base, *files]) == 0
    assert "strict_saddle, index 1" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--from", "missing.npy", "--to", "missing.npy"], "--from: no such file"),
        (["--images", "0"], "--images: expected a positive integer"),
        (["--save-saddle", "s.txt"], "--save-saddle must end in .npy or .npz"),
    ],
)
def test_cli_connect_errors_are_one_line(tmp_path, capsys, extra, message):
    np.save(tmp_path / "a.npy", np.eye(3)[0])
    args = ["connect", "dictionary_learning_one_sparse", "--from", str(tmp_path / "a.npy"),
            "--to", str(tmp_path / "a.npy")]  # fmt: skip
    if extra[0] == "--from":
        args = ["connect", "dictionary_learning_one_sparse", *extra]
    else:
        args += extra
    assert main(args) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err
