"""The solver library, installed as ``manifoldscape.solvers``."""

if __name__ != "manifoldscape.solvers":  # pragma: no cover - guard against a stray sys.path
    raise ImportError(
        f"the solver library must be imported as 'manifoldscape.solvers', not {__name__!r}; "
        "install the project (pip install -e .) instead of putting its folders on sys.path"
    )
