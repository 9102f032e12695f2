"""``manifoldscape census`` and ``plot morse|cascade|disconnectivity``: a problem's critical points.

::

    manifoldscape census NAME [--param KEY=VALUE ...] [--seed N] [--starts N]
                              [--solver NAME ...] [--census-seed N] [--no-explore]
                              [--explore-runs N] [--workers N | --scheduler ADDRESS]
                              [--connect] [--json] [--no-progress]
    manifoldscape plot morse|cascade|disconnectivity NAME [--param KEY=VALUE ...] [--seed N]
                              [--starts N] [--census-seed N] --output FILE.png|FILE.svg

``--seed`` (default 0) seeds the problem instance, as for ``solve``; the census draws its random
starts from ``--census-seed`` (default ``--seed + 1``).  ``census`` prints the table of classes
of critical points modulo symmetry (cost, index, verdict, distance to truth, symmetry dimension,
how often found, how many critical points it stands for), or with ``--json`` one object whose
``critical_points`` list holds each class's ``cost``, ``index``, ``verdict``, ``count`` and
``orbit_size``.  ``--connect`` adds the cascade graph (``manifoldscape.landscape.cascade``: which
classes the gradient flow joins, with cost drops and dispersiveness) and the barriers between
minima classes, as tables or as the JSON keys ``graph`` and ``barriers``.  ``plot morse`` draws
the Morse diagram, cost against index (seed 003 Fig. 6, right); ``plot cascade`` the cascade
graph over it; ``plot disconnectivity`` the Becker–Karplus disconnectivity graph of the minima.
``--workers N`` runs the random starts and explore runs on N processes, ``--scheduler local`` on
a Dask LocalCluster of N worker processes, ``--scheduler tcp://HOST:PORT`` on a running Dask
scheduler (reached within 10 s; it must be trusted: Dask clients unpickle what it sends); the
census is the same whatever runs it.  A progress bar
goes to standard error unless ``--no-progress``.
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
    sub.add_argument(
        "--workers",
        type=shared.positive_int,
        default=1,
        metavar="N",
        help="processes for the random starts and explore runs (default 1; same census for any N)",
    )
    sub.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the searches on Dask: 'local' (a LocalCluster of --workers processes) or the "
        "address tcp://HOST:PORT of a running scheduler",
    )
    sub.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def _run_census(
    args: argparse.Namespace, shared: Any, connect: bool = False
) -> tuple[Any, dict[str, Any], Any]:
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
    client = _scheduler_client(args, shared)
    try:
        result = census(
            problem,
            args.starts,
            seed=census_seed,
            solver=solvers,
            explore=not args.no_explore,
            explore_runs=args.explore_runs,
            progress=not args.no_progress,
            connect=connect,
            workers=1 if client is not None else args.workers,
            scheduler=client,
        )
    except (ValueError, TypeError) as exc:
        raise shared.UsageError(f"census of {args.name!r}: {shared.one_line(exc)}") from exc
    finally:
        if client is not None:
            from manifoldscape.experiments.sweep.executors import close_client

            close_client(client)
    return result, parameters, census_seed


#: seconds to reach a Dask scheduler given by --scheduler
SCHEDULER_TIMEOUT = 10.0


def _scheduler_client(args: argparse.Namespace, shared: Any) -> Any:
    """The Dask client of ``--scheduler`` (None without it); a bad or dead address: usage error."""
    if args.scheduler is None:
        return None
    from manifoldscape.experiments.sweep.executors import dask_client
    from manifoldscape.experiments.sweep.plan import SweepError
    from manifoldscape.landscape.starts import check_scheduler

    address = args.scheduler
    if address != "local":
        if args.workers != 1:
            raise shared.UsageError("--workers and --scheduler ADDRESS exclude each other")
        try:
            check_scheduler(address, 1)
        except ValueError as exc:
            raise shared.UsageError(f"--scheduler: {shared.one_line(exc)}") from exc
    try:
        return dask_client(address, args.workers, None, SCHEDULER_TIMEOUT)
    except SweepError as exc:
        raise shared.UsageError(f"--scheduler: {shared.one_line(exc)}") from exc


def _command_census(args: argparse.Namespace, shared: Any) -> int:
    result, parameters, census_seed = _run_census(args, shared, connect=args.connect)
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
    if args.connect:
        print()
        print(result.graph.table())
        print()
        print(_barrier_table(result))
    return 0


def _barrier_table(result: Any) -> str:
    rows = ["minima         barrier level     saddle height from a  height from b"]
    for b in result.barriers():
        pair = f"#{b.a} ↔ #{b.b}" + (" copies" if b.a == b.b else "")
        if b.level is None:
            rows.append(f"{pair:<14} no path on the graph")
            continue
        rows.append(
            f"{pair:<14} {b.level:<17.10g} #{b.saddle:<5} {b.height_a:<14.6g} {b.height_b:.6g}"
        )
    return "\n".join(rows)


def _scalars(parameters: dict[str, Any]) -> str:
    return ", ".join(
        f"{k}={v}" for k, v in parameters.items() if isinstance(v, (bool, int, float, str))
    )


def _check_output(text: str, shared: Any) -> Path:
    return shared.check_output(text, "--output", (".png", ".svg"))


def _command_picture(args: argparse.Namespace, shared: Any, kind: str) -> int:
    output = _check_output(args.output, shared)
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise shared.UsageError(f"the pictures need matplotlib: {shared.one_line(exc)}") from exc
    result, _, _ = _run_census(args, shared, connect=kind != "morse")
    if kind == "morse":
        from manifoldscape.landscape.plots import morse_diagram

        figure = morse_diagram(result)
    elif kind == "cascade":
        figure = result.graph.plot()
    else:
        figure = result.disconnectivity()
    figure.savefig(output, bbox_inches="tight")
    print(f"wrote {output}")
    return 0


def add_command(commands: Any, plot_kinds: Any, shared: Any) -> None:
    """Add ``census`` to the commands and ``morse``, ``cascade``, ``disconnectivity`` to plot."""
    sub = commands.add_parser(
        "census", help="find and certify the critical points of every index, modulo symmetry"
    )
    shared.add_instance_arguments(sub)
    _add_census_arguments(sub, shared)
    sub.add_argument(
        "--connect",
        action="store_true",
        help="also compute the cascade graph (flow connections) and the barriers between minima",
    )
    sub.set_defaults(run=lambda args: _command_census(args, shared))

    pictures = {
        "morse": "Morse diagram of a census: cost against index (seed 003 Fig. 6)",
        "cascade": "the cascade graph of a census over its Morse diagram (seed 003 Fig. 7, 8)",
        "disconnectivity": "Becker–Karplus disconnectivity graph of the minima of a census",
    }
    for kind, text in pictures.items():
        picture = plot_kinds.add_parser(kind, help=text)
        shared.add_instance_arguments(picture)
        _add_census_arguments(picture, shared)
        picture.add_argument(
            "--output", required=True, metavar="FILE", help="the picture to write (.png or .svg)"
        )
        picture.set_defaults(run=lambda args, kind=kind: _command_picture(args, shared, kind))
