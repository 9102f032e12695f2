"""Basin sizes of one-hidden-layer networks: how many random starts end in spurious minima.

Seed 000 §4 cites spurious local minima for ReLU networks (Safran & Shamir, ICML 2018: the
population loss with an orthonormal teacher, c = 1 and k = n ≥ 6 hidden units, with rates
growing in k, and fewer once the student is mildly over-parametrized) and none in expectation
for polynomial activations when over-parametrized (Venturi, Bandeira & Bruna 2018).  This study
counts them with ``one_hidden_layer``:

* ReLU, population loss, student k = n units for a k-unit orthonormal teacher, n ∈ {4, …, 12};
* ReLU, population loss, student k + 2 units (mild over-parametrization);
* σ(t) = t², population loss, student k and k + 2 units (for t² with k ≥ n every local
  minimum is global: Burer–Monteiro for the convex M ↦ ‖M − M♮‖² + ½ tr(M − M♮)² of M = XXᵀ);
* ReLU, finite-sample loss with m = 20 n k Gaussian inputs (fewer starts).

Every start X₀ has i.i.d. N(0, 1/n) entries (columns of norm ≈ 1, like the teacher's), drawn
from ``SeedSequence([n, start])``; trust regions run to the loop's gradient test with
``rtol_gradient=1e-10`` (‖grad f‖ ≤ 1e-10 ‖Hess f‖ max(‖X‖, 1), or the round-off floor), or 2000
iterations (500 for the finite-sample loss), and the end point is certified.  It is *global* if
L(X)/L(0) ≤ 1e-8 (L(0) = the loss of the zero network); otherwise a *zero_unit* end point if a
column is below 1e-6 of the largest (a dead unit: the loss is not twice differentiable there and
its Hessian is round-off over ‖x_i‖, so its certificate is not trusted), else it is classified by
its certificate: a *spurious minimizer* (``local_minimizer`` modulo the group, cost above), a
saddle, a degenerate point, or *not_critical* (not converged; for the finite-sample loss this is
a run stuck on a kink a_rᵀx_i = 0, where the loss is not differentiable and the second-order
certificate cannot speak).  Fractions come with Wilson 95 % intervals; spurious minimizers are
grouped into cost classes (relative gap 1e-6).  The picture (left: spurious fraction against k;
right: the fraction of starts that do not end at a global minimizer, which is what the finite-
sample curve shows, with the intervals) is written to ``--output``.

Not a test: run it by hand (about fifteen minutes of one core with the defaults),

    OPENBLAS_NUM_THREADS=1 python benchmarks/study_network_basins.py [--starts 1000]
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections import Counter  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import manifoldscape as ms  # noqa: E402
from manifoldscape.problems.neural_network import one_hidden_layer  # noqa: E402

SIZES = tuple(range(4, 13))
#: relative cost L(X)/L(0) below which an end point counts as a global minimizer
GLOBAL_TOLERANCE = 1e-8
OUTCOMES = ("global", "spurious", "saddle", "degenerate", "zero_unit", "not_critical")
#: a column this small relative to the largest is a dead unit, where the loss is not C²
ZERO_UNIT = 1e-6
Z95 = 1.959963984540054


@dataclass(frozen=True)
class Setting:
    """One curve of the study: activation, loss, extra student units, starts per size."""

    label: str
    activation: str
    loss: str
    extra_units: int
    starts: int
    max_iterations: int = 2000


@dataclass
class Cell:
    """The outcomes of all starts at one size."""

    counts: Counter = field(default_factory=Counter)
    spurious_costs: list = field(default_factory=list)
    seconds: float = 0.0
    zero_cost: float = 1.0

    @property
    def total(self) -> int:
        """The number of starts."""
        return sum(self.counts.values())


def wilson(successes: int, total: int) -> tuple[float, float]:
    """The Wilson score 95 % interval for a binomial proportion."""
    if total == 0:
        return math.nan, math.nan
    p = successes / total
    denominator = 1 + Z95**2 / total
    centre = (p + Z95**2 / (2 * total)) / denominator
    half = Z95 * math.sqrt(p * (1 - p) / total + Z95**2 / (4 * total**2)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def cost_classes(costs: list[float], gap: float = 1e-6) -> list[tuple[float, int]]:
    """Group costs whose relative difference is at most ``gap``: (lowest cost, count) each."""
    classes: list[list[float]] = []
    for value in sorted(costs):
        if classes and abs(value - classes[-1][0]) <= gap * max(abs(value), 1e-300):
            classes[-1].append(value)
        else:
            classes.append([value])
    return [(group[0], len(group)) for group in classes]


def classify(result: ms.Result, zero_cost: float) -> str:
    """The outcome of one run: global, spurious, saddle, degenerate, zero_unit, not_critical."""
    if result.cost <= GLOBAL_TOLERANCE * zero_cost:
        return "global"
    norms = np.linalg.norm(result.point, axis=0)
    if np.min(norms) <= ZERO_UNIT * np.max(norms):
        return "zero_unit"
    verdict = result.certificate.verdict.value
    return {
        "local_minimizer": "spurious",
        "strict_saddle": "saddle",
        "local_maximizer": "saddle",
        "degenerate": "degenerate",
    }.get(verdict, "not_critical")


def run_cell(setting: Setting, n: int) -> Cell:
    """All starts of one setting at k = n teacher units."""
    k_student = n + setting.extra_units
    kwargs = {"m": 20 * n * k_student} if setting.loss == "finite" else {}
    problem = one_hidden_layer(
        n,
        k_student,
        activation=setting.activation,
        loss=setting.loss,
        teacher="orthonormal",
        teacher_units=n,
        seed=n,
        **kwargs,
    )
    zero_cost = problem.cost(np.zeros((n, k_student)))
    cell = Cell(zero_cost=zero_cost)
    begin = time.process_time()
    for start in range(setting.starts):
        rng = np.random.default_rng(np.random.SeedSequence([n, start]))
        x0 = rng.standard_normal((n, k_student)) / math.sqrt(n)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = ms.solve(
                problem,
                "trust-regions",
                x0=x0,
                rtol_gradient=1e-10,
                max_iterations=setting.max_iterations,
            )
        outcome = classify(result, zero_cost)
        cell.counts[outcome] += 1
        if outcome == "spurious":
            cell.spurious_costs.append(result.cost)
    cell.seconds = time.process_time() - begin
    return cell


def picture(table: dict[str, dict[int, Cell]], settings: list[Setting], path: Path) -> None:
    """Left: certified spurious minimizers; right: every end point that is not global."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12.0, 4.8), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    markers = ("o", "s", "^", "v", "D")
    for index, setting in enumerate(settings):
        sizes = np.array(sorted(table[setting.label]))
        cells = [table[setting.label][n] for n in sizes]
        offset = 0.08 * (index - (len(settings) - 1) / 2)
        for ax, count in (
            (axes[0], lambda c: c.counts["spurious"]),
            (axes[1], lambda c: c.total - c.counts["global"]),
        ):
            fractions = np.array([count(c) / c.total for c in cells])
            intervals = np.array([wilson(count(c), c.total) for c in cells])
            ax.errorbar(
                sizes + offset,
                fractions,
                yerr=np.abs(intervals.T - fractions),
                marker=markers[index % len(markers)],
                linestyle="--" if setting.loss == "finite" else "-",
                capsize=3,
                label=f"{setting.label} ({setting.starts} starts)",
            )
    axes[0].set_ylabel("fraction of random starts")
    axes[0].set_title("ending in a certified spurious local minimizer")
    axes[1].set_title("ending anywhere but a global minimizer")
    for ax in axes:
        ax.set_xlabel("teacher units k = input dimension n")
        ax.set_ylim(-0.02, 1.0)
        ax.grid(alpha=0.3)
    axes[0].legend(loc="upper left", fontsize="small")
    fig.suptitle(
        "One-hidden-layer networks, orthonormal teacher, trust regions from N(0, 1/n) starts "
        "(Wilson 95 % intervals)"
    )
    fig.savefig(path, dpi=150)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=1000, help="starts per size (population)")
    parser.add_argument("--finite-starts", type=int, default=100, help="starts per size (finite)")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument(
        "--output",
        type=Path,
        default=Path(__file__).resolve().parent / "figures" / "network_basins.png",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the table as JSON")
    args = parser.parse_args()
    # certificates at dead units log round-off asymmetry (expected there, see the docstring)
    logging.getLogger("manifoldscape").setLevel(logging.ERROR)
    over = max(1, (3 * args.starts) // 10)
    settings = [
        Setting("ReLU, population, k' = k", "relu", "population", 0, args.starts),
        Setting("ReLU, population, k' = k + 2", "relu", "population", 2, over),
        Setting("t², population, k' = k", "square", "population", 0, args.starts),
        Setting("t², population, k' = k + 2", "square", "population", 2, args.starts),
        Setting("ReLU, finite m = 20nk', k' = k", "relu", "finite", 0, args.finite_starts, 500),
    ]
    print(
        "fraction of starts ending in each outcome; spurious with its Wilson 95 % interval and "
        "its cost classes L/L(0) (count)"
    )
    header = f"{'setting':32s} {'k':>3s} {'starts':>6s} " + " ".join(f"{o:>12s}" for o in OUTCOMES)
    print(header + "   spurious 95 % interval   CPU s  spurious cost classes")
    table: dict[str, dict[int, Cell]] = {}
    records = []
    for setting in settings:
        table[setting.label] = {}
        for n in args.sizes:
            cell = run_cell(setting, n)
            table[setting.label][n] = cell
            low, high = wilson(cell.counts["spurious"], cell.total)
            classes = cost_classes(cell.spurious_costs)
            shown = ", ".join(f"{c / cell.zero_cost:.4g} ({count})" for c, count in classes[:3])
            if len(classes) > 3:
                shown += f", … {len(classes)} classes"
            fractions = " ".join(f"{cell.counts[o] / cell.total:12.3f}" for o in OUTCOMES)
            print(
                f"{setting.label:32s} {n:3d} {cell.total:6d} {fractions}   "
                f"[{low:.3f}, {high:.3f}]   {cell.seconds:6.1f}  {shown or '-'}",
                flush=True,
            )
            records.append(
                {
                    "setting": setting.label,
                    "k": n,
                    "starts": cell.total,
                    "counts": dict(cell.counts),
                    "spurious_interval": [low, high],
                    "spurious_classes": [[c, count] for c, count in classes],
                    "cpu_seconds": cell.seconds,
                }
            )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    picture(table, settings, args.output)
    print(f"picture: {args.output}")
    if args.json is not None:
        args.json.write_text(json.dumps(records, indent=1))
        print(f"table: {args.json}")


if __name__ == "__main__":
    main()
