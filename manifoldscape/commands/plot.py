"""``manifoldscape plot KIND NAME ... --output FILE``: landscape pictures as PNG or SVG.

::

    manifoldscape plot sphere NAME --output F [--resolution N] [--starts N] [--point FILE ...]
    manifoldscape plot slice NAME --output F [--point FILE] [--radius R] [--resolution N]
                                             [--mapping retraction|exp] [--point-seed N]
    manifoldscape plot profile NAME --from FILE --to FILE --output F [--samples N] [--align]
    manifoldscape plot spectrum NAME --point FILE --output F
    manifoldscape plot convergence NAME --output F [--solver S ...] [--option KEY=VALUE ...]
                                                   [--solver-seed N]

Every kind takes ``NAME --param KEY=VALUE --seed N`` like ``solve`` (the same instance) and
``--output FILE`` ending in ``.png`` or ``.svg``; ``--json`` prints what was drawn as one JSON
object.  The pictures are those of ``manifoldscape.landscape.plots``:

* ``sphere`` — the cost on S² (problems on the sphere in R³ only) with the critical points of a
  census from ``--starts`` random starts (default 40; 0 for none) and any ``--point`` files,
  certified and marked by index;
* ``slice`` — the cost on a 2-D slice through ``--point`` (default: a random point drawn from
  ``--point-seed``, default ``--seed + 1``, so the slice shows both the way to the truth and the
  curvature there) toward the truth and along the most negative curvature;
* ``profile`` — the cost along the geodesic from ``--from`` to ``--to``;
* ``spectrum`` — the Riemannian Hessian eigenvalues at ``--point``;
* ``convergence`` — cost gap, gradient norm and distance to the truth per iteration for each
  ``--solver`` (default gradient-descent and trust-regions), all from the same random start
  drawn from ``--solver-seed`` (default ``--seed + 1``).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

DEFAULT_SOLVERS = ("gradient-descent", "trust-regions")


def _output_path(text: str, shared: Any) -> Path:
    return shared.check_output(text, "--output", (".png", ".svg"))


def _grid_budget(shared: Any, cells: int, what: str) -> None:
    """A picture's grid: its memory (a few float arrays per cell) and its number of cells."""
    shared.require_memory(8 * 8 * cells, what)
    shared.limit(cells, what, "cells")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _draw(shared: Any, what: str, function: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a plotting function, turning the library's refusals into one-line usage errors."""
    try:
        return function(*args, **kwargs)
    except (ValueError, TypeError) as exc:
        raise shared.UsageError(f"{what}: {' '.join(str(exc).split())}") from exc


def _finish(args: argparse.Namespace, shared: Any, figure: Any, path: Path, **info: Any) -> int:
    from manifoldscape.landscape.plots import save_figure

    save_figure(figure, path)
    if args.json:
        shared.print_json({"kind": args.kind, "problem": args.name, "output": str(path), **info})
    else:
        print(f"wrote {path}")
    return 0


def _run_sphere(args: argparse.Namespace, shared: Any) -> int:
    from manifoldscape.landscape import plots

    path = _output_path(args.output, shared)
    resolution = args.resolution
    _grid_budget(
        shared,
        2 * resolution * resolution,
        f"--resolution {resolution} (a {resolution} × {2 * resolution} grid on the sphere)",
    )
    if args.starts:
        shared.limit(args.starts, f"--starts {args.starts}", "starts")
    problem, _ = shared.build_problem(args.name, args.param, args.seed)
    points = [shared.load_point(text, problem) for text in args.point or ()]
    classes: list[Any] = []
    if args.starts:
        from pymanopt.manifolds import Sphere

        from manifoldscape.geometry import point_shape

        manifold = problem.manifold  # anything but S² in R³ is refused by sphere_landscape below
        if isinstance(manifold, Sphere) and point_shape(manifold) == (3,):
            from manifoldscape.landscape.census import census

            found = _draw(shared, "census", census, problem, starts=args.starts, seed=args.seed + 1)
            classes = list(found.classes)
    figure = _draw(
        shared,
        f"plot sphere {args.name!r}",
        plots.sphere_landscape,
        problem,
        resolution=args.resolution,
        critical_points=classes + points,
    )
    marked = [
        {"cost": float(c.cost), "index": int(c.index), "verdict": str(c.verdict.value)}
        for c in classes
    ]
    return _finish(args, shared, figure, path, critical_points=marked, points=len(points))


def _run_slice(args: argparse.Namespace, shared: Any) -> int:
    from manifoldscape.geometry import random_point
    from manifoldscape.landscape import plots

    path = _output_path(args.output, shared)
    resolution = args.resolution
    _grid_budget(
        shared, resolution * resolution, f"--resolution {resolution} (a {resolution}² grid)"
    )
    problem, _ = shared.build_problem(args.name, args.param, args.seed)
    if args.point is not None:
        point, where = shared.load_point(args.point, problem), args.point
    else:
        seed = args.seed + 1 if args.point_seed is None else args.point_seed
        point, where = random_point(problem.manifold, seed), f"random point (seed {seed})"
    figure = _draw(
        shared,
        f"plot slice {args.name!r}",
        plots.slice_2d,
        problem,
        point,
        radius=args.radius,
        resolution=args.resolution,
        mapping=args.mapping,
    )
    return _finish(args, shared, figure, path, point=where, mapping=args.mapping)


def _run_profile(args: argparse.Namespace, shared: Any) -> int:
    from manifoldscape.landscape import plots

    path = _output_path(args.output, shared)
    _grid_budget(shared, args.samples, f"--samples {args.samples}")
    problem, _ = shared.build_problem(args.name, args.param, args.seed)
    x = shared.load_point(args.start, problem)
    y = shared.load_point(args.end, problem)
    figure = _draw(
        shared,
        f"plot profile {args.name!r}",
        plots.geodesic_profile,
        problem,
        x,
        y,
        samples=args.samples,
        align=args.align,
    )
    return _finish(args, shared, figure, path, start=args.start, end=args.end)


def _run_spectrum(args: argparse.Namespace, shared: Any) -> int:
    from manifoldscape.core.certificate import certify
    from manifoldscape.landscape import plots

    path = _output_path(args.output, shared)
    problem, _ = shared.build_problem(args.name, args.param, args.seed)
    point = shared.load_point(args.point, problem)
    certificate = _draw(shared, f"certifying {args.point!r}", certify, problem, point)
    figure = plots.hessian_spectrum(problem, point, certificate=certificate)
    data = shared.certificate_json(certificate)
    return _finish(args, shared, figure, path, point=args.point, certificate=data)


def _run_convergence(args: argparse.Namespace, shared: Any) -> int:
    from manifoldscape.core.registry import solver_registry
    from manifoldscape.core.workflows import solve
    from manifoldscape.geometry import random_point
    from manifoldscape.landscape import plots

    path = _output_path(args.output, shared)
    problem, _ = shared.build_problem(args.name, args.param, args.seed)
    names = list(dict.fromkeys(args.solver or DEFAULT_SOLVERS))
    given = shared.parse_options(args.option, "--option")
    seed = args.seed + 1 if args.solver_seed is None else args.solver_seed
    start = random_point(problem.manifold, seed)
    results = {}
    for name in names:
        try:
            entry = solver_registry.get(name)
        except ValueError as exc:
            raise shared.UsageError(" ".join(str(exc).split())) from exc
        owner = f"solver {name!r}"
        options = shared.coerce(given, entry.factory, "--option", "option", owner, set())
        results[name] = _draw(
            shared,
            f"solving {args.name!r} with {name!r}",
            solve,
            problem,
            solver=name,
            x0=start,
            keep_iterates=True,
            **options,
        )
    figure = plots.convergence(results, problem=problem)
    summary = {
        name: {
            "iterations": int(r.iterations),
            "cost": float(r.cost),
            "gradient_norm": float(r.gradient_norm),
            "verdict": None if r.certificate is None else r.certificate.verdict.value,
        }
        for name, r in results.items()
    }
    return _finish(args, shared, figure, path, solver_seed=seed, runs=summary)


def add_command(commands: Any, plot_kinds: Any, shared: Any) -> None:
    """Add the picture kinds sphere, slice, profile, spectrum and convergence to ``plot``."""

    def kind(name: str, help_text: str, run: Any) -> argparse.ArgumentParser:
        sub = plot_kinds.add_parser(name, help=help_text, description=help_text)
        shared.add_instance_arguments(sub)
        sub.add_argument(
            "--output", required=True, metavar="FILE", help="the picture to write (.png or .svg)"
        )
        sub.set_defaults(run=lambda args: run(args, shared))
        return sub

    sphere = kind(
        "sphere",
        "the cost on S² (sphere problems in R³) with the critical points marked by index",
        _run_sphere,
    )
    sphere.add_argument(
        "--resolution", type=shared.positive_int, default=90, help="latitude cells (default 90)"
    )
    sphere.add_argument(
        "--starts",
        type=shared.non_negative_int,
        default=40,
        help="random starts of the census that finds the critical points (default 40; 0: none)",
    )
    sphere.add_argument(
        "--point", action="append", metavar="FILE", help="also mark this point (repeatable)"
    )

    slicing = kind(
        "slice",
        "the cost on a 2-D slice through a point: toward the truth and along negative curvature",
        _run_slice,
    )
    slicing.add_argument(
        "--point", metavar="FILE", help="the point (default: a random point, see --point-seed)"
    )
    slicing.add_argument(
        "--point-seed",
        type=shared.non_negative_int,
        default=None,
        metavar="N",
        help="seed of the random point when --point is not given (default --seed + 1)",
    )
    slicing.add_argument(
        "--radius", type=_positive_float, default=None, help="half-width of the slice"
    )
    slicing.add_argument(
        "--resolution", type=shared.positive_int, default=61, help="grid points per axis (61)"
    )
    slicing.add_argument(
        "--mapping",
        choices=("retraction", "exp"),
        default="retraction",
        help="map from the tangent plane to the manifold (default retraction)",
    )

    profile = kind("profile", "the cost along the geodesic between two points", _run_profile)
    profile.add_argument("--from", dest="start", required=True, metavar="FILE", help="x")
    profile.add_argument("--to", dest="end", required=True, metavar="FILE", help="y")
    profile.add_argument(
        "--samples", type=shared.positive_int, default=201, help="points on the path (201)"
    )
    profile.add_argument(
        "--align", action="store_true", help="replace y by its symmetric copy closest to x"
    )

    spectrum = kind(
        "spectrum", "the Riemannian Hessian eigenvalues at a point, symmetry apart", _run_spectrum
    )
    spectrum.add_argument("--point", required=True, metavar="FILE", help="the point (.npy/.npz)")

    converging = kind(
        "convergence",
        "cost gap, gradient norm and distance to the truth per iteration for several solvers",
        _run_convergence,
    )
    converging.add_argument(
        "--solver",
        action="append",
        metavar="NAME",
        help="a registered solver (repeatable; default gradient-descent and trust-regions)",
    )
    converging.add_argument(
        "--option",
        action="append",
        metavar="KEY=VALUE",
        help="an option given to every solver (repeatable)",
    )
    converging.add_argument(
        "--solver-seed",
        type=shared.non_negative_int,
        default=None,
        metavar="N",
        help="seed of the common start point (default --seed + 1)",
    )
