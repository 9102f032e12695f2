"""The problem library, installed as ``manifoldscape.problems``.

Each module is one problem family; importing this package registers every factory in
``manifoldscape.problem_registry``.
"""

if __name__ != "manifoldscape.problems":  # pragma: no cover - guard against a stray sys.path
    raise ImportError(
        f"the problem library must be imported as 'manifoldscape.problems', not {__name__!r}; "
        "install the project (pip install -e .) instead of putting its folders on sys.path"
    )

from manifoldscape.problems.eigen import eigenspace, rayleigh, singular_pair
from manifoldscape.registry import problem_registry

problem_registry.register("rayleigh", rayleigh)
problem_registry.register("singular_pair", singular_pair)
problem_registry.register("eigenspace", eigenspace)

__all__ = ["eigenspace", "rayleigh", "singular_pair"]
