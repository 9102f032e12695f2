"""``manifoldscape sweep`` and ``manifoldscape plot phase-transition``.

::

    manifoldscape sweep NAME --grid KEY=V1,V2,... [--grid ...] --trials T --db FILE
                             [--solver S] [--option K=V ...] [--param K=V ...] [--start S]
                             [--instance per-trial|per-point [--batch K]]
                             [--workers W | --scheduler ADDRESS [--timeout S]] [--seed N]
                             [--retry-errors] [--json]
    manifoldscape sweep show FILE [--json]
    manifoldscape plot phase-transition FILE --output OUT.png [--x KEY] [--y KEY]
                                        [--line LABEL=X ...]

Grid values are numbers, strings or expressions of the other parameters (``m=1*n,2*n,4*n``; see
``manifoldscape.experiments.sweep``).  ``--workers 0`` runs in this process, ``--scheduler local``
on a Dask LocalCluster, ``--scheduler tcp://HOST:PORT`` on a running Dask scheduler.
``--batch K`` (with ``--instance per-point``) solves the trials of a grid point K at a time
with the solver's batched form (trust-regions and gradient-descent, on problems with batch
methods).  Running the same command again resumes the sweep (``--retry-errors`` also runs the
trials stored as errors again); a different sweep under the same ``--db`` is refused.  The grid
is checked point by point and its size (points × trials, ``MANIFOLDSCAPE_MAX_TRIALS``) before
the store file is created.  A scheduler address must be trusted: Dask clients unpickle what it
sends.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_command(commands: Any, plot_kinds: Any, shared: Any) -> None:
    """Add ``sweep`` to the CLI and ``phase-transition`` to ``plot``."""
    parser = commands.add_parser(
        "sweep",
        help="run or resume a phase-transition sweep (or: sweep show FILE)",
        description=(
            "Run a grid of instance parameters × trials, solve and certify each trial, and store "
            "it in an SQLite file as it finishes; 'sweep show FILE' prints a stored sweep."
        ),
    )
    parser.add_argument("name", metavar="NAME", help="a registered problem, or 'show'")
    parser.add_argument("file", metavar="FILE", nargs="?", help="(with 'show') the store file")
    parser.add_argument(
        "--grid",
        action="append",
        metavar="KEY=V1,V2,...",
        help="a grid axis (repeatable); values may be expressions like 1.5*n",
    )
    parser.add_argument(
        "--trials", type=shared.positive_int, default=20, help="trials per grid point"
    )
    parser.add_argument("--db", metavar="FILE", help="the SQLite file of the trials")
    parser.add_argument("--solver", default="trust-regions", metavar="NAME")
    parser.add_argument("--option", action="append", metavar="KEY=VALUE", help="a solver option")
    parser.add_argument(
        "--param", action="append", metavar="KEY=VALUE", help="a fixed problem parameter"
    )
    parser.add_argument(
        "--start", default="random", help="'random' (default) or a start method of the problem"
    )
    parser.add_argument(
        "--instance",
        choices=("per-trial", "per-point"),
        default="per-trial",
        help="per-trial (default): a new seeded instance per trial; per-point: one seeded "
        "instance per grid point, the trials are seeded starts on it",
    )
    parser.add_argument(
        "--batch",
        type=shared.positive_int,
        default=None,
        metavar="K",
        help="with --instance per-point: solve a point's trials K at a time, batched",
    )
    parser.add_argument(
        "--workers",
        type=shared.non_negative_int,
        default=None,
        help="worker processes (default: the CPUs; 0: in this process)",
    )
    parser.add_argument(
        "--scheduler", metavar="ADDRESS", help="a Dask scheduler address, or 'local'"
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=10.0,
        help="seconds to reach the scheduler (default 10)",
    )
    parser.add_argument(
        "--retry-errors",
        action="store_true",
        help="run the trials stored as errors again, replacing them",
    )
    parser.add_argument("--seed", type=shared.non_negative_int, default=0, help="sweep seed")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=lambda args: _run(args, shared))

    plot = plot_kinds.add_parser(
        "phase-transition",
        help="success rate of a sweep against one or two parameters",
        description=(
            "Curves of the success rate with Wilson 95%% intervals against --x (a grid key or an "
            "expression like m/n), or a heat map against --x and --y."
        ),
    )
    plot.add_argument("file", metavar="FILE", help="the sweep's SQLite file")
    plot.add_argument("--output", required=True, metavar="OUT", help="a .png, .svg or .pdf file")
    plot.add_argument("--x", metavar="KEY", help="the horizontal axis (default: the varying key)")
    plot.add_argument("--y", metavar="KEY", help="a second parameter: draw a heat map")
    plot.add_argument(
        "--line",
        action="append",
        metavar="LABEL=X",
        help="a labelled vertical line at x = X (repeatable), e.g. 'm=2n-1=1.97'",
    )
    plot.set_defaults(run=lambda args: _plot(args, shared))


def _seconds(text: str) -> float:
    import math

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 < value <= 86400):
        raise argparse.ArgumentTypeError(
            f"expected a positive number of seconds (at most 86400), got {text!r}"
        )
    return value


def _parse_grid(items: list[str] | None, shared: Any) -> dict[str, list[str]]:
    grid: dict[str, list[str]] = {}
    for item in items or ():
        key, sep, values = item.partition("=")
        key = key.strip()
        if not sep or not key or not values.strip():
            raise shared.UsageError(f"--grid expects KEY=V1,V2,..., got {item!r}")
        if key in grid:
            raise shared.UsageError(f"--grid {key} is given twice")
        parts = [v.strip() for v in values.split(",")]
        if any(not p for p in parts):
            raise shared.UsageError(f"--grid {key}: an empty value in {values!r}")
        grid[key] = parts
    return grid


def _run(args: argparse.Namespace, shared: Any) -> int:
    if args.name == "show":
        if args.file is None:
            raise shared.UsageError("sweep show needs the store FILE")
        return _show(args.file, args.json, shared)
    if args.file is not None:
        raise shared.UsageError(f"unexpected argument {args.file!r} (only 'sweep show FILE')")
    if args.db is None:
        raise shared.UsageError("sweep needs --db FILE, the SQLite file of the trials")
    if args.workers is not None and args.scheduler not in (None, "local"):
        raise shared.UsageError("--workers and --scheduler ADDRESS exclude each other")
    from manifoldscape.experiments.sweep import SweepError, format_summary, sweep

    grid = _parse_grid(args.grid, shared)
    fixed = shared.parse_options(args.param, "--param")
    options = shared.parse_options(args.option, "--option")
    try:
        result = sweep(
            args.name,
            grid,
            trials=args.trials,
            db=args.db,
            solver=args.solver,
            start=args.start,
            instance=args.instance,
            batch=args.batch,
            solver_options=options,
            problem_options=fixed,
            workers=args.workers,
            scheduler=args.scheduler,
            seed=args.seed,
            progress=not args.no_progress and not args.json,
            timeout=args.timeout,
            retry_errors=args.retry_errors,
        )
    except (SweepError, ValueError, TypeError) as exc:
        raise shared.UsageError(" ".join(str(exc).split())) from None
    summary = result.summary()
    if args.json:
        shared.print_json(
            {
                "db": str(result.db),
                "sweep": result.sweep_id,
                "definition": result.definition,
                "trials": result.trials,
                "ran": result.ran,
                "skipped": result.skipped,
                "errors": result.errors,
                "stored_errors": result.stored_errors,
                "planned": result.planned,
                "restarts": result.restarts,
                "stored": result.stored,
                "executor": result.executor,
                "elapsed_s": result.elapsed_s,
                "summary": summary,
            }
        )
        return 0
    print(result.headline())
    print(f"executor: {result.executor}")
    print(format_summary(summary, result.definition))
    return 0


def _show(file: str, as_json: bool, shared: Any) -> int:
    from manifoldscape.experiments.store import open_store
    from manifoldscape.experiments.sweep import format_summary, summarize

    try:
        with open_store(file, readonly=True) as store:
            stored = store.definition()
            if stored is None:
                raise ValueError(f"{file} holds no sweep")
            sweep_id, definition = stored
            records = store.records()
    except ValueError as exc:
        raise shared.UsageError(" ".join(str(exc).split())) from None
    summary = summarize(records, definition)
    if as_json:
        shared.print_json(
            {
                "db": file,
                "sweep": sweep_id,
                "definition": definition,
                "stored": len(records),
                "errors": sum(1 for r in records if r["error"]),
                "summary": summary,
            }
        )
        return 0
    grid = " ".join(
        f"{key}={','.join(str(v) for v in values)}" for key, values in definition["grid"]
    )
    fixed = " ".join(f"{k}={v}" for k, v in definition["problem_options"].items())
    errors = sum(1 for r in records if r["error"])
    print(f"sweep {sweep_id} in {file}: {len(records)} trial(s) stored, {errors} error(s)")
    batch = f"batch {definition['batch']}; " if "batch" in definition else ""
    print(
        f"problem {definition['problem']} {fixed} grid {grid}; solver {definition['solver']} "
        f"{definition['solver_options'] or ''}; start {definition['start']}; "
        f"instance {definition.get('instance', 'per-trial')}; {batch}"
        f"seed {definition['seed']}".replace("  ", " ")
    )
    print(format_summary(summary, definition))
    return 0


def _plot(args: argparse.Namespace, shared: Any) -> int:
    from manifoldscape.experiments.sweep import SweepError, phase_transition

    output = shared.check_output(args.output, "--output", (".png", ".svg", ".pdf"))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lines = {}
    for item in args.line or ():
        label, sep, value = item.rpartition("=")
        try:
            lines[label] = float(value)
        except ValueError:
            raise shared.UsageError(f"--line expects LABEL=NUMBER, got {item!r}") from None
        if not sep or not label:
            raise shared.UsageError(f"--line expects LABEL=NUMBER, got {item!r}")
    try:
        figure = phase_transition(args.file, x=args.x, y=args.y, lines=lines)
    except (SweepError, ValueError) as exc:
        raise shared.UsageError(" ".join(str(exc).split())) from None
    figure.savefig(output, dpi=120)
    plt.close(figure)
    print(f"wrote {output}", file=sys.stdout)
    return 0
