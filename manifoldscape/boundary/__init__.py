"""The boundary layer: every check that input from a user goes through, in one place.

It imports nothing from the rest of manifoldscape, so every layer above (geometry, core, the
problem and solver libraries, landscape, experiments, commands) can use it.  Each helper raises a
``ValueError`` or ``TypeError`` that names the argument, what was expected and what was given.
"""

from manifoldscape.boundary.arguments import (
    Seed,
    as_generator,
    as_real_array,
    require_finite,
    require_nonempty,
    require_options,
    require_positive_int,
    seed_as_int,
)

__all__ = [
    "Seed",
    "as_generator",
    "as_real_array",
    "require_finite",
    "require_nonempty",
    "require_options",
    "require_positive_int",
    "seed_as_int",
]
