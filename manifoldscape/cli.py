"""The ``manifoldscape`` command line: list, solve and certify the registered problems.

::

    manifoldscape list [--json]
    manifoldscape solve NAME [--param KEY=VALUE ...] [--solver NAME] [--option KEY=VALUE ...]
                             [--seed N] [--solver-seed N] [--json] [--save-point FILE]
    manifoldscape certify NAME --point FILE [--param KEY=VALUE ...] [--seed N] [--json]

Problems and solvers are found by name in ``problem_registry`` / ``solver_registry``.  A
``--param`` value is read according to the factory's signature (annotation, else the type of the
default): integers, numbers, true/false, strings, comma-separated lists of numbers, ``none`` for
optional parameters, and ``KEY=FILE.npy`` (or a ``scipy.sparse.save_npz`` file) for array
parameters such as a user matrix ``A``.  ``--option`` values are read the same way from the
solver factory's signature.

``--seed`` (default 0) seeds the problem instance, so ``manifoldscape solve rayleigh`` always
solves the same instance; the solver draws its start point from ``--solver-seed`` (default
``--seed + 1``, a stream independent of the instance).  ``certify`` rebuilds the instance from
the same parameters and seed and reads the point from ``.npy`` (an ``.npz`` with ``arr_0``,
``arr_1``, … for product manifolds, as written by ``solve --save-point``).

Bad input — an unknown name, parameter or option, a value that does not parse, a missing,
unreadable or oversized array file, a point off the manifold, a size beyond the memory or a plan
beyond its limit, an output path that cannot be written, anything the library refuses with
``ValueError``/``TypeError`` — ends with exit status 2 and one line on standard error,
``manifoldscape: error: <what is wrong>``, before the work starts.  So do running out of memory
or disk space during the work.  Output cut short by a closed pipe (``manifoldscape list | head``)
ends quietly with status 141, as a shell command killed by SIGPIPE would.  ``--allow-large``
lifts the memory and plan-size limits (``MANIFOLDSCAPE_ALLOW_LARGE=1``, inherited by worker
processes).  The library itself never prints; this module does.
"""

from __future__ import annotations

import argparse
import enum
import inspect
import json
import logging
import math
import sys
import types
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from manifoldscape.boundary.parsing import (
    UsageError,
    coerce_assignments,
    one_line,
    split_assignments,
)

PROG = "manifoldscape"
EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a command killed by SIGPIPE
DEFAULT_SEED = 0


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line, like every other CLI error."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


# --------------------------------------------------------------------------- output helpers
def _jsonable(value: Any) -> Any:
    """Plain JSON data: numpy scalars and arrays unwrapped, enums by value, NaN/Inf as null."""
    if isinstance(value, enum.Enum):
        return _jsonable(value.value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)


def _print_json(data: dict[str, Any]) -> None:
    print(json.dumps(_jsonable(data), allow_nan=False))


def _format_value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _print_table(rows: Sequence[tuple[str, Any]]) -> None:
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {_format_value(value)}")


def _scalar_parameters(parameters: dict[str, Any]) -> str:
    shown = [f"{k}={v}" for k, v in parameters.items() if np.ndim(v) == 0]
    return ", ".join(shown)


def _certificate_rows(certificate: Any) -> list[tuple[str, Any]]:
    if certificate is None:
        return [("certificate", "not computed")]
    index = f"{certificate.index}" if certificate.index_exact else f">= {certificate.index}"
    return [
        ("verdict", certificate.verdict.value),
        ("index", index),
        ("min eigenvalue", float(certificate.min_eigenvalue)),
        ("max eigenvalue", float(certificate.max_eigenvalue)),
        ("symmetry dimension", int(certificate.symmetry_dimension)),
        ("zero eigenvalues", int(certificate.null_dimension)),
        ("Morse (nondegenerate)", "yes" if certificate.morse_nondegenerate else "no"),
        ("certified by", f"{certificate.method}, {certificate.hessian_products} products"),
        *(("note", note) for note in certificate.notes),
    ]


def _certificate_json(certificate: Any) -> dict[str, Any] | None:
    if certificate is None:
        return None
    data = certificate.to_dict()
    data.update(
        verdict=certificate.verdict.value,
        index=int(certificate.index),
        min_eigenvalue=float(certificate.min_eigenvalue),
        max_eigenvalue=float(certificate.max_eigenvalue),
        symmetry_dimension=int(certificate.symmetry_dimension),
    )
    return data


def _truth_fields(problem: Any, point: Any) -> tuple[float | None, bool | None]:
    if problem.truth is None:
        return None, None
    return float(problem.distance_to_truth(point)), bool(problem.recovered(point))


# --------------------------------------------------------------------------- problems and points
def _build_problem(name: str, params: Sequence[str] | None, seed: int) -> tuple[Any, dict]:
    """Build the instance of problem ``name`` from the ``--param`` values and ``seed``."""
    from manifoldscape.core.registry import problem_registry
    from manifoldscape.core.workflows import make_problem

    try:
        entry = problem_registry.get(name)
    except ValueError as exc:
        raise UsageError(one_line(exc)) from exc
    given = split_assignments(params, "--param")
    accepts_seed = "seed" in inspect.signature(entry.factory).parameters
    values = coerce_assignments(
        given, entry.factory, "--param", "parameter", f"problem {name!r}", {"seed"}
    )
    if accepts_seed:
        values["seed"] = seed
    try:
        problem = make_problem(name, **values)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"problem {name!r}: {one_line(exc)}") from exc
    # what the output reports as the instance's parameters: the problem's own record, with
    # file-backed arrays named by their file
    parameters = dict(problem.parameters)
    for key, text in given.items():
        if not isinstance(values[key], (str, list)) and Path(text).suffix in (".npy", ".npz"):
            parameters[key] = text
    return problem, parameters


def _is_product(problem: Any) -> bool:
    from pymanopt.manifolds import Product

    return isinstance(problem.manifold, Product)


def check_output(text: str, what: str, suffixes: Sequence[str] | None = None) -> Path:
    """An output path checked before the work (``boundary.paths``), as a ``UsageError``."""
    from manifoldscape.boundary.paths import OutputPathError, check_output_path

    try:
        return check_output_path(text, what, suffixes)
    except OutputPathError as exc:
        raise UsageError(one_line(exc)) from None


def _check_save_path(text: str, problem: Any) -> Path:
    path = check_output(text, "--save-point", (".npy", ".npz"))
    if _is_product(problem) and path.suffix != ".npz":
        parts = len(problem.manifold.manifolds)
        raise UsageError(
            f"--save-point: a point of {problem.name!r} has {parts} parts; give a .npz file"
        )
    return path


def _save_point(path: Path, point: Any) -> None:
    if isinstance(point, (list, tuple)):
        np.savez(path, *[np.asarray(p) for p in point])
    elif path.suffix == ".npz":
        np.savez(path, np.asarray(point))
    else:
        np.save(path, np.asarray(point))


def _load_point(text: str, problem: Any) -> Any:
    """Read a saved point for ``problem`` and check it is on the manifold."""
    from manifoldscape.boundary.files import ArrayFileError, load_arrays

    path = Path(text)
    if path.suffix not in (".npy", ".npz"):
        raise UsageError(f"--point must be a .npy or .npz file, got {text!r}")
    try:
        arrays = load_arrays(path, "--point")
    except ArrayFileError as exc:
        raise UsageError(one_line(exc)) from None
    if path.suffix == ".npy":
        point: Any = arrays[""]
    else:
        keys = list(arrays)
        expected = [f"arr_{i}" for i in range(len(keys))]
        if sorted(keys) != sorted(expected) or not keys:
            raise UsageError(f"--point: {text!r} must hold arrays arr_0, arr_1, …, got {keys}")
        point = [arrays[key] for key in expected]
    if isinstance(point, list) and not _is_product(problem):
        if len(point) != 1:
            raise UsageError(
                f"--point: {text!r} holds {len(point)} arrays, but a point of "
                f"{problem.name!r} is one array"
            )
        point = point[0]
    try:
        return problem.check_point(point, "point")
    except (ValueError, TypeError) as exc:
        raise UsageError(f"--point {text!r}: {one_line(exc)}") from exc


# --------------------------------------------------------------------------- commands
def _signature_defaults(factory: Callable[..., Any], skip: set[str]) -> dict[str, Any]:
    out = {}
    for name, parameter in inspect.signature(factory).parameters.items():
        if name in skip or parameter.kind not in (
            parameter.KEYWORD_ONLY,
            parameter.POSITIONAL_OR_KEYWORD,
        ):
            continue
        default = parameter.default
        out[name] = None if default is inspect.Parameter.empty else default
    return out


def _command_list(args: argparse.Namespace) -> int:
    from manifoldscape.core.registry import problem_registry, solver_registry

    problems = [
        {
            "name": entry.name,
            "description": entry.description,
            "parameters": _signature_defaults(entry.factory, {"seed"}),
        }
        for entry in problem_registry
    ]
    solvers = [
        {
            "name": entry.name,
            "description": entry.description,
            "options": _signature_defaults(entry.factory, set()),
        }
        for entry in solver_registry
    ]
    if args.json:
        _print_json({"problems": problems, "solvers": solvers})
        return EXIT_OK
    width = max([len(item["name"]) for item in problems + solvers] + [4])
    print("problems (manifoldscape solve NAME --param KEY=VALUE):")
    for item in problems:
        print(f"  {item['name']:<{width}}  {item['description']}")
        shown = ", ".join(f"{k}={v!r}" for k, v in item["parameters"].items())
        print(f"  {'':<{width}}  parameters: {shown or '(none)'}")
    print("solvers (manifoldscape solve NAME --solver SOLVER --option KEY=VALUE):")
    for item in solvers:
        print(f"  {item['name']:<{width}}  {item['description']}")
    return EXIT_OK


def _command_solve(args: argparse.Namespace) -> int:
    from manifoldscape.core.registry import solver_registry
    from manifoldscape.core.workflows import solve

    problem, parameters = _build_problem(args.name, args.param, args.seed)
    save_path = None if args.save_point is None else _check_save_path(args.save_point, problem)
    try:
        solver_entry = solver_registry.get(args.solver)
    except ValueError as exc:
        raise UsageError(one_line(exc)) from exc
    options = coerce_assignments(
        split_assignments(args.option, "--option"),
        solver_entry.factory,
        "--option",
        "option",
        f"solver {args.solver!r}",
        set(),
    )
    try:  # refuse bad options before any work is done
        solver_entry.factory(**options)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"solver {args.solver!r}: {one_line(exc)}") from exc
    solver_seed = args.seed + 1 if args.solver_seed is None else args.solver_seed
    try:
        # overflows of a diverging run are detected below and reported on one line, so numpy's
        # floating-point warnings would only repeat them
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            result = solve(problem, solver=args.solver, seed=solver_seed, certify=False, **options)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"solving {args.name!r} with {args.solver!r}: {one_line(exc)}") from exc
    result = _certified(problem, result, args.solver, options)
    if save_path is not None:
        _save_point(save_path, result.point)
    distance, recovered = _truth_fields(problem, result.point)
    certificate = result.certificate
    if args.json:
        data = result.to_dict()
        data.update(
            problem=args.name,
            solver=args.solver,
            parameters=parameters,
            seed=args.seed,
            solver_seed=solver_seed,
            options=options,
            certificate=_certificate_json(certificate),
            distance_to_truth=distance,
            recovered=recovered,
            point_file=None if save_path is None else str(save_path),
        )
        _print_json(data)
        return EXIT_OK
    rows: list[tuple[str, Any]] = [
        ("problem", f"{args.name} ({_scalar_parameters(parameters)})"),
        ("seed", args.seed),
        ("solver", f"{args.solver} (seed {solver_seed})"),
        ("cost", f"{result.cost:.12g}"),
        ("gradient norm", f"{result.gradient_norm:.3e}"),
        ("iterations", int(result.iterations)),
        ("time", f"{result.time_s:.3f} s"),
        (
            "stop reason",
            f"{result.stop_reason.value} ({result.stop_message})"
            if result.stop_message
            else result.stop_reason.value,
        ),
    ]
    rows += _certificate_rows(certificate)
    rows += [
        ("distance to truth", None if distance is None else f"{distance:.3e}"),
        ("recovered", recovered),
    ]
    if save_path is not None:
        rows.append(("point saved to", str(save_path)))
    _print_table(rows)
    return EXIT_OK


def _certified(problem: Any, result: Any, solver: str, options: dict[str, Any]) -> Any:
    """The result with its certificate; a final point off the manifold is reported as divergence.

    A step far too long (``--option step_size=1e300``) overflows the retraction and leaves a
    point that is not on the manifold (or not finite): that is the solver diverging with these
    options, not a bad input point.
    """
    import dataclasses

    from manifoldscape.core.certificate import certify

    try:
        problem.check_point(result.point, "the final point")
    except (ValueError, TypeError) as exc:
        shown = ", ".join(f"{k}={v}" for k, v in options.items()) or "its default options"
        raise UsageError(
            f"solver {solver!r} diverged with {shown}: its final point, after "
            f"{result.iterations} iteration(s), is off the manifold ({one_line(exc)}); try a "
            "smaller step_size or another solver"
        ) from None
    try:
        certificate = certify(problem, result.point)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"certifying the final point of {solver!r}: {one_line(exc)}") from exc
    return dataclasses.replace(result, certificate=certificate)


def _command_certify(args: argparse.Namespace) -> int:
    from manifoldscape.core.certificate import certify

    problem, parameters = _build_problem(args.name, args.param, args.seed)
    point = _load_point(args.point, problem)
    try:
        certificate = certify(problem, point)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"certifying {args.point!r}: {one_line(exc)}") from exc
    distance, recovered = _truth_fields(problem, point)
    if args.json:
        _print_json(
            {
                "problem": args.name,
                "parameters": parameters,
                "seed": args.seed,
                "point_file": args.point,
                "cost": float(certificate.cost),
                "gradient_norm": float(certificate.gradient_norm),
                "certificate": _certificate_json(certificate),
                "distance_to_truth": distance,
                "recovered": recovered,
            }
        )
        return EXIT_OK
    rows: list[tuple[str, Any]] = [
        ("problem", f"{args.name} ({_scalar_parameters(parameters)})"),
        ("seed", args.seed),
        ("point", args.point),
        ("cost", f"{certificate.cost:.12g}"),
        ("gradient norm", f"{certificate.gradient_norm:.3e}"),
    ]
    rows += _certificate_rows(certificate)
    rows += [
        ("distance to truth", None if distance is None else f"{distance:.3e}"),
        ("recovered", recovered),
    ]
    _print_table(rows)
    return EXIT_OK


# --------------------------------------------------------------------------- parser and main
def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``manifoldscape`` command."""
    parser = _Parser(
        prog=PROG,
        description="Solve nonconvex problems on manifolds and certify their critical points.",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log progress to standard error (-v: info, -vv: debug)",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {_version()}")
    parser.add_argument(
        "--allow-large",
        action="store_true",
        help="lift the memory and plan-size limits (also MANIFOLDSCAPE_ALLOW_LARGE=1)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    listing = commands.add_parser("list", help="list the registered problems and solvers")
    listing.add_argument("--json", action="store_true", help="print one JSON object")
    listing.set_defaults(run=_command_list)

    def add_instance_arguments(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("name", metavar="NAME", help="a registered problem (see 'list')")
        sub.add_argument(
            "--param",
            action="append",
            metavar="KEY=VALUE",
            help="a problem parameter (repeatable); KEY=FILE.npy for an array parameter",
        )
        sub.add_argument(
            "--seed",
            type=_non_negative_int,
            default=DEFAULT_SEED,
            help=f"seed of the problem instance (default {DEFAULT_SEED})",
        )
        sub.add_argument("--json", action="store_true", help="print one JSON object")

    solving = commands.add_parser("solve", help="solve a problem instance and certify the result")
    add_instance_arguments(solving)
    solving.add_argument(
        "--solver",
        default="trust-regions",
        metavar="NAME",
        help="a registered solver (default trust-regions)",
    )
    solving.add_argument(
        "--option", action="append", metavar="KEY=VALUE", help="a solver option (repeatable)"
    )
    solving.add_argument(
        "--solver-seed",
        type=_non_negative_int,
        default=None,
        metavar="N",
        help="seed of the solver's start point (default: --seed + 1)",
    )
    solving.add_argument(
        "--save-point", metavar="FILE", help="save the final point (.npy; .npz for products)"
    )
    solving.set_defaults(run=_command_solve)

    certifying = commands.add_parser(
        "certify", help="certify a saved point by its Riemannian Hessian"
    )
    add_instance_arguments(certifying)
    certifying.add_argument(
        "--point",
        required=True,
        metavar="FILE",
        help="the point (.npy; .npz with arr_0, arr_1, … for product manifolds)",
    )
    certifying.set_defaults(run=_command_certify)

    # the workflow commands (census, sweep, plot kinds) live in manifoldscape.commands.*: each
    # module there defines add_command(commands, plot_kinds, shared) and is found by name
    plotting = commands.add_parser("plot", help="draw a picture (PNG or SVG); see 'plot -h'")
    plot_kinds = plotting.add_subparsers(dest="kind", metavar="KIND", parser_class=_Parser)
    plot_kinds.required = True
    shared = types.SimpleNamespace(
        add_instance_arguments=add_instance_arguments,
        build_problem=_build_problem,
        parse_options=split_assignments,
        coerce=coerce_assignments,
        print_json=_print_json,
        require_memory=_memory,
        print_table=_print_table,
        jsonable=_jsonable,
        certificate_json=_certificate_json,
        load_point=_load_point,
        check_output=check_output,
        limit=_limit,
        non_negative_int=_non_negative_int,
        positive_int=_positive_int,
        one_line=one_line,
        UsageError=UsageError,
    )
    for module in _command_modules():
        module.add_command(commands, plot_kinds, shared)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("manifoldscape")
    except PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
        return "unknown"


def _limit(count: int, what: str, kind: str) -> None:
    """Refuse a count of work items beyond the plan-size limit ``kind`` (a UsageError)."""
    from manifoldscape.boundary import budgets

    limits = {"starts": budgets.MAX_STARTS, "cells": budgets.MAX_CELLS}
    try:
        budgets.require_plan_size(count, what, limits[kind])
    except budgets.ResourceLimitError as exc:
        raise UsageError(one_line(exc)) from None


def _memory(nbytes: float, what: str) -> None:
    """Refuse work that does not fit in the memory available (a UsageError)."""
    from manifoldscape.boundary import budgets

    try:
        budgets.require_memory(nbytes, what)
    except budgets.ResourceLimitError as exc:
        raise UsageError(one_line(exc)) from None


def _command_modules() -> list[types.ModuleType]:
    """The modules of ``manifoldscape.commands``, sorted by name."""
    import importlib
    import pkgutil

    import manifoldscape.commands as package

    return [
        importlib.import_module(f"{package.__name__}.{info.name}")
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name)
        if not info.name.startswith("_")
    ]


def _large_allowed() -> bool:
    from manifoldscape.boundary.budgets import allow_large

    return allow_large()


class _LogFormatter(logging.Formatter):
    """``manifoldscape: warning: <message>``, like the error lines."""

    def format(self, record: logging.LogRecord) -> str:
        return f"{PROG}: {record.levelname.lower()}: {record.getMessage()}"


def _error(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _quiet_broken_pipe() -> int:
    """The reader of standard output went away: stop quietly (no flush error at exit either)."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    return EXIT_BROKEN_PIPE


def _run(args: argparse.Namespace) -> int:
    """Run the command with the limits ``--allow-large`` asks for, also in worker processes."""
    import os

    from manifoldscape.boundary.budgets import ENV_ALLOW_LARGE

    if not args.allow_large:
        return args.run(args)
    saved = os.environ.get(ENV_ALLOW_LARGE)
    os.environ[ENV_ALLOW_LARGE] = "1"
    try:
        return args.run(args)
    finally:
        if saved is None:
            os.environ.pop(ENV_ALLOW_LARGE, None)
        else:
            os.environ[ENV_ALLOW_LARGE] = saved


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``manifoldscape`` with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        return _error(str(exc))
    except SystemExit as exc:  # --help and --version end here
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            return _quiet_broken_pipe()
        return int(exc.code or 0) if not isinstance(exc.code, str) else _error(exc.code)
    except BrokenPipeError:
        return _quiet_broken_pipe()
    # the library logs; the command shows its warnings (and with -v its progress) on stderr
    package_logger = logging.getLogger("manifoldscape")
    previous_level = package_logger.level
    level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)]
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_LogFormatter())
    handler.setLevel(level)
    package_logger.addHandler(handler)
    if args.verbose:
        package_logger.setLevel(level)
    try:
        status = _run(args)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return status
    except UsageError as exc:
        return _error(str(exc))
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except MemoryError as exc:
        detail = f" ({one_line(exc)})" if str(exc) else ""
        return _error(
            f"out of memory{detail}; use smaller sizes (the limits that refuse them at once "
            "were lifted by --allow-large or MANIFOLDSCAPE_ALLOW_LARGE)"
            if args.allow_large or _large_allowed()
            else f"out of memory{detail}; use smaller sizes"
        )
    except OSError as exc:  # a full disk or a vanished directory while writing an output
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        return _error(f"{where}{exc.strerror or one_line(exc)}")
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        package_logger.removeHandler(handler)
        package_logger.setLevel(previous_level)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
