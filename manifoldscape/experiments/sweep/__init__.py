"""Recovery experiments at scale: a grid of instance parameters × trials, solved and certified.

The seeds' central empirical claims are phase transitions: for generalized phase retrieval "m =
O(n) equations are sufficient" and nonconvex methods "work well even with a random
initialization" (seed 000, "Solving phase retrieval", Cai et al.; seed 003 §2.2), while for a
real signal m ≥ 2n − 1 generic measurements are needed for x to be determined up to sign at all
(seed 000, "Solvability", Wang & Xu 2015).  ``sweep`` measures such transitions:

    sweep("phase_retrieval", grid={"n": [32], "m": ["1*n", "1.5*n", "2*n", "8*n"]},
          trials=20, db="pr.sqlite")

Each trial builds a seeded instance of a registered problem, solves it from the chosen start,
certifies the final point by its Riemannian Hessian (``certify``) and records whether the truth
was recovered modulo the symmetry group (``Problem.recovered``: dist_G(x, x♮)/‖x♮‖ ≤ the
problem's ``recovery_tolerance``), with the verdict, the index, cost, gradient norm, iterations,
evaluation counts and times — or the error if the trial raised (the sweep goes on).

**Grid values** are numbers, strings (``loss="intensity"``), or arithmetic expressions in the
other parameters: ``"4*n"``, ``"2*n-1"``, ``"n/2"`` (numbers, parameter names, ``+ - * /`` and
parentheses; parsed without recursion and bounded in length and depth, never ``eval``;
``manifoldscape.boundary.expressions``).  A result that is not
an integer is rounded half up for an integer parameter (``m``).  The names may be other grid keys
or fixed ``problem_options``.

**Seeds.** Trial t at grid point p draws ``SeedSequence([seed, h(p)..., t])`` (h: the SHA-256 of
the grid point's canonical JSON, as four 32-bit words) and from it a problem seed and a solver
seed.  A trial's numbers therefore depend on its key only, never on which worker or executor ran
it or on interruptions; two sweeps with the same seed and grid solve the same instances from the
same starts (a paired comparison of losses or solvers set in ``problem_options``).

**Execution.** ``workers=0`` runs in this process; ``workers=W`` (default: the CPUs available)
in a ``ProcessPoolExecutor`` of W spawned processes with one BLAS thread each (OPENBLAS, OMP,
MKL, VECLIB and NUMEXPR thread counts set to ``threads_per_worker`` in their environment); a
worker that dies (``BrokenProcessPool``) restarts the pool, and the trials that were in flight
are retried one at a time; a trial that kills its worker ``max_attempts`` times running alone is
recorded with that error.  ``scheduler="local"`` starts a Dask ``LocalCluster`` of W worker
processes (one thread each); ``scheduler="tcp://host:port"`` uses that Dask scheduler
(unreachable within ``timeout`` seconds: a ``SweepError``; the scheduler must be trusted, since Dask
clients unpickle what it sends).

**Batches.** With ``instance="per-point"`` and ``batch=K`` the trials of a grid point are
solved K at a time by the solver's batched form (``batched_trust_regions``,
``batched_gradient_descent``: the K starts advance together, one matrix-matrix product per
step), each final point certified on its own (``manifoldscape.experiments.sweep.batches``).
Trials ``[cK, (c+1)K)`` of a point always form one batch, so the numbers do not depend on the
workers or on interruptions; they agree with an unbatched sweep to round-off, and ``batch`` is
part of the definition.

**Store.** Every finished trial is committed by this process as it arrives, to the SQLite file
``db`` (``manifoldscape.experiments.store``): a re-run skips what is done, a different definition
under the same file is refused.  ``trials`` is not part of the definition: running again with more
trials adds them; ``retry_errors=True`` runs the trials stored as errors again.

**Limits.** Every grid point is checked against the factory at plan time and the plan's size
(grid points × trials) against ``MANIFOLDSCAPE_MAX_TRIALS`` (default 10⁶), before the store file
is created; ``MANIFOLDSCAPE_ALLOW_LARGE=1`` lifts the memory and size limits.

The package's modules follow the seams of the work: ``plan`` (grid, expressions resolved, checks,
lazy trials), ``trial`` (one trial), ``batches`` (K trials at once), ``executors`` (this
process, a process pool, Dask), ``run`` (``sweep`` and ``SweepResult``), ``summary`` (rates and
intervals) and ``picture`` (the phase-transition figure); the store is
``manifoldscape.experiments.store``.
"""

from manifoldscape.boundary.expressions import Expression, parse_expression
from manifoldscape.experiments.store import COLUMNS
from manifoldscape.experiments.sweep.batches import BatchTask, run_batch, run_task
from manifoldscape.experiments.sweep.picture import phase_transition
from manifoldscape.experiments.sweep.plan import (
    GridPoint,
    SweepError,
    SweepPlan,
    TrialTask,
    plan_sweep,
    trial_seeds,
)
from manifoldscape.experiments.sweep.run import SweepResult, sweep
from manifoldscape.experiments.sweep.summary import format_summary, summarize, wilson_interval
from manifoldscape.experiments.sweep.trial import run_trial

_trial_seeds = trial_seeds  # the name tests and older code use

__all__ = [
    "BatchTask",
    "Expression",
    "GridPoint",
    "SweepError",
    "SweepPlan",
    "SweepResult",
    "TrialTask",
    "columns",
    "format_summary",
    "parse_expression",
    "phase_transition",
    "plan_sweep",
    "run_batch",
    "run_task",
    "run_trial",
    "summarize",
    "sweep",
    "trial_seeds",
    "wilson_interval",
]


def columns() -> list[str]:
    """The stored columns of a trial (``manifoldscape.experiments.store.COLUMNS``)."""
    return list(COLUMNS)
