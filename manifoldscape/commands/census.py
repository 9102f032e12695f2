"""``manifoldscape census`` and ``manifoldscape plot morse``: the critical points of a problem.

::

    manifoldscape census NAME [--param KEY=VALUE ...] [--seed N] [--starts N]
                              [--solver NAME ...] [--census-seed N] [--no-explore]
                              [--explore-runs N] [--json] [--no-progress]
    manifoldscape plot morse NAME [--param KEY=VALUE ...] [--seed N] [--starts N]
                             [--census-seed N] --output FILE.png|FILE.svg

``--seed`` (default 0) seeds the problem instance, as for ``solve``; the census draws its random
starts from ``--census-seed`` (default ``--seed + 1``).  ``census`` prints the table of classes
of critical points modulo symmetry (cost, index, verdict, distance to truth, symmetry dimension,
how often found), or with ``--json`` one object whose ``critical_points`` list holds each class's
``cost``, ``index``, ``verdict`` and ``count``.  ``plot morse`` draws the Morse diagram, cost
against index (seed 003 Fig. 6, right).  A progress bar goes to standard error unless
``--no-progress``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

DEFAULT_STARTS = 200


def _add_census_arguments(sub: argparse.ArgumentParser, shared: Any) -> None:
    sub.add_argument(
        "--starts",
        type=shared.positive_int,
        default=DEFAULT_STARTS,
        metavar="N",
        help=f"number of random starts (default {DEFAULT_STARTS})",
    )
    sub.add_argument(
        "--solver",
        action="append",
        metavar="NAME",
        help="a registered solver for the minimizers (repeatable; default trust-regions)",
    )
    sub.add_argument(
        "--census-seed",
        type=shared.non_negative_int,
        default=None,
        metavar="N",
        help="seed of the random starts (default: --seed + 1)",
    )
    sub.add_argument(
        "--no-explore",
        action="store_true",
        help="skip the outward exploration along Hessian modes from the classes found",
    )
    sub.add_argument(
        "--explore-runs",
        type=shared.non_negative_int,
        default=None,
        metavar="N",
        help="budget of exploration runs (default max(starts, 8 · tangent dimension))",
    )
    sub.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def _run_census(args: argparse.Namespace, shared: Any) -> tuple[Any, dict[str, Any], Any]:
    """Build the instance and run the census; library errors become one-line usage errors."""
    from manifoldscape.core.registry import solver_registry
    from manifoldscape.landscape.census import census

    shared.limit(args.starts, f"--starts {args.starts}", "starts")
    if args.explore_runs is not None:
        shared.limit(args.explore_runs, f"--explore-runs {args.explore_runs}", "starts")
    problem, parameters = shared.build_problem(args.name, args.param, args.seed)
    solvers = tuple(args.solver or ("trust-regions",))
    for name in solvers:
        try:
            solver_registry.get(name)
        except ValueError as exc:
            raise shared.UsageError(shared.one_line(exc)) from exc
    census_seed = args.seed + 1 if args.census_seed is None else args.census_seed
    try:
        result = census(
            problem,
            args.starts,
            seed=census_seed,
            solvers=solvers,
            explore=not args.no_explore,
            explore_runs=args.explore_runs,
            progress=not args.no_progress,
        )
    except (ValueError, TypeError) as exc:
        raise shared.UsageError(f"census of {args.name!r}: {shared.one_line(exc)}") from exc
    return result, parameters, census_seed


def _command_census(args: argparse.Namespace, shared: Any) -> int:
    result, parameters, census_seed = _run_census(args, shared)
    if args.json:
        data = result.to_json()
        data.update(parameters=parameters, seed=args.seed, census_seed=census_seed)
        shared.print_json(data)
        return 0
    print(
        f"census of {args.name} ({_scalars(parameters)}), seed {args.seed}, starts seed "
        f"{census_seed}"
    )
    print(result.table())
    return 0


def _scalars(parameters: dict[str, Any]) -> str:
    return ", ".join(
        f"{k}={v}" for k, v in parameters.items() if isinstance(v, (bool, int, float, str))
    )


def _check_output(text: str, shared: Any) -> Path:
    return shared.check_output(text, "--output", (".png", ".svg"))


def _command_morse(args: argparse.Namespace, shared: Any) -> int:
    output = _check_output(args.output, shared)
    try:
        from manifoldscape.landscape.plots import morse_diagram
    except ImportError as exc:
        raise shared.UsageError(
            f"the Morse diagram needs matplotlib: {shared.one_line(exc)}"
        ) from exc
    result, _, _ = _run_census(args, shared)
    drawn = morse_diagram(result)
    figure = drawn if hasattr(drawn, "savefig") else drawn.figure
    figure.savefig(output, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(figure)
    print(f"wrote {output}")
    return 0


def add_command(commands: Any, plot_kinds: Any, shared: Any) -> None:
    """Add ``census`` to the commands and ``morse`` to the plot kinds."""
    sub = commands.add_parser(
        "census", help="find and certify the critical points of every index, modulo symmetry"
    )
    shared.add_instance_arguments(sub)
    _add_census_arguments(sub, shared)
    sub.set_defaults(run=lambda args: _command_census(args, shared))

    morse = plot_kinds.add_parser(
        "morse", help="Morse diagram of a census: cost against index (seed 003 Fig. 6)"
    )
    shared.add_instance_arguments(morse)
    _add_census_arguments(morse, shared)
    morse.add_argument(
        "--output", required=True, metavar="FILE", help="the picture to write (.png or .svg)"
    )
    morse.set_defaults(run=lambda args: _command_morse(args, shared))
