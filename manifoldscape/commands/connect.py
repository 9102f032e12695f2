"""``manifoldscape connect``: the index-1 saddle between two points, by a nudged elastic band.

::

    manifoldscape connect NAME --from FILE --to FILE [--param KEY=VALUE ...] [--seed N]
                               [--images N] [--iterations N] [--band-seed N]
                               [--save-saddle FILE] [--json]

Rebuilds the instance like ``solve`` (``--param``, ``--seed``), reads the two points from
``.npy`` files (``.npz`` with ``arr_0``, ``arr_1``, … for product manifolds, as ``solve
--save-point`` writes them), and runs ``manifoldscape.connect``: a nudged elastic band of
``--images`` interior images with a climbing image, refined into a saddle by mode following and
Newton steps, certified, and the two descents from it integrated.  Prints the band, the saddle's
certificate and barrier, and whether the descents reach the two points; ``--json`` prints one
object; ``--save-saddle`` writes the saddle as ``.npy`` (``.npz`` for products).
"""

from __future__ import annotations

import argparse
from typing import Any


def _load(text: str, flag: str, problem: Any, shared: Any) -> Any:
    try:
        return shared.load_point(text, problem)
    except shared.UsageError as exc:
        raise shared.UsageError(str(exc).replace("--point", flag, 1)) from exc


def _check_save(text: str, problem: Any, shared: Any) -> Any:
    """The --save-saddle path, refused before any work when it cannot be written."""
    from pathlib import Path

    from pymanopt.manifolds import Product

    path = Path(text)
    product = isinstance(problem.manifold, Product)
    if path.suffix not in (".npy", ".npz") or (product and path.suffix != ".npz"):
        expected = ".npz" if product else ".npy or .npz"
        raise shared.UsageError(f"--save-saddle must end in {expected}, got {text!r}")
    if not path.parent.is_dir():
        raise shared.UsageError(f"--save-saddle: directory {str(path.parent)!r} does not exist")
    return path


def _save(path: Any, point: Any) -> str:
    import numpy as np

    if isinstance(point, (list, tuple)):
        np.savez(path, *[np.asarray(p) for p in point])
    elif path.suffix == ".npz":
        np.savez(path, np.asarray(point))
    else:
        np.save(path, np.asarray(point))
    return str(path)


def _command_connect(args: argparse.Namespace, shared: Any) -> int:
    from manifoldscape.landscape.paths import connect

    problem, parameters = shared.build_problem(args.name, args.param, args.seed)
    start = _load(args.start, "--from", problem, shared)
    end = _load(args.end, "--to", problem, shared)
    save_path = None if args.save_saddle is None else _check_save(args.save_saddle, problem, shared)
    band_seed = args.seed + 1 if args.band_seed is None else args.band_seed
    try:
        result = connect(
            problem,
            start,
            end,
            images=args.images,
            iterations=args.iterations,
            seed=band_seed,
        )
    except (ValueError, TypeError) as exc:
        raise shared.UsageError(f"connect {args.name!r}: {shared.one_line(exc)}") from exc
    saved = None
    if save_path is not None and result.saddle is not None:
        saved = _save(save_path, result.saddle)
    if args.json:
        data = result.to_json()
        data.update(
            parameters=parameters,
            seed=args.seed,
            band_seed=band_seed,
            start_file=args.start,
            end_file=args.end,
            saddle_file=saved,
        )
        shared.print_json(data)
        return 0
    print(f"connect {args.name}: {args.start} → {args.end} (seed {args.seed})")
    print(result.summary())
    if saved is not None:
        print(f"saddle saved to {saved}")
    return 0


def add_command(commands: Any, plot_kinds: Any, shared: Any) -> None:
    """Add ``connect`` to the commands."""
    sub = commands.add_parser(
        "connect", help="find and certify the index-1 saddle between two points (elastic band)"
    )
    shared.add_instance_arguments(sub)
    sub.add_argument(
        "--from", dest="start", required=True, metavar="FILE", help="the first point (.npy/.npz)"
    )
    sub.add_argument(
        "--to", dest="end", required=True, metavar="FILE", help="the second point (.npy/.npz)"
    )
    sub.add_argument(
        "--images",
        type=shared.positive_int,
        default=12,
        metavar="N",
        help="interior images of the band (default 12, at least 3)",
    )
    sub.add_argument(
        "--iterations",
        type=shared.positive_int,
        default=400,
        metavar="N",
        help="band iterations (default 400)",
    )
    sub.add_argument(
        "--band-seed",
        type=shared.non_negative_int,
        default=None,
        metavar="N",
        help="seed of the first path's midpoint for conjugate points (default: --seed + 1)",
    )
    sub.add_argument(
        "--save-saddle", metavar="FILE", help="save the saddle (.npy; .npz for products)"
    )
    sub.set_defaults(run=lambda args: _command_connect(args, shared))
