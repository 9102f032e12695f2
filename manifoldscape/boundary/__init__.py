"""The boundary layer: every check that input from a user goes through, in one place.

It imports nothing from the rest of manifoldscape, so every layer above (geometry, core, the
problem and solver libraries, landscape, experiments, commands) can use it.  Each helper raises a
``ValueError`` or ``TypeError`` that names the argument, what was expected and what was given.

* ``arguments`` — seeds, arrays, counts, option names;
* ``parsing`` — command-line values read by a factory's signature;
* ``files`` — ``.npy``/``.npz`` files: headers and sizes before data, no pickles, sparse indices
  checked (``MANIFOLDSCAPE_MAX_ARRAY_BYTES``);
* ``budgets`` — memory available, ``require_memory`` before allocating, plan-size limits
  (``MANIFOLDSCAPE_ALLOW_LARGE``, ``MANIFOLDSCAPE_MAX_TRIALS``, ``…_MAX_STARTS``, ``…_MAX_CELLS``);
* ``paths`` — output paths checked before the work;
* ``expressions`` — bounded arithmetic expressions of parameters, parsed without recursion.
"""

from manifoldscape.boundary.arguments import (
    Seed,
    as_generator,
    as_real_array,
    callback_arity,
    require_finite,
    require_nonempty,
    require_optional_callable,
    require_options,
    require_positive_int,
    require_verbosity,
    seed_as_int,
)

__all__ = [
    "Seed",
    "as_generator",
    "as_real_array",
    "callback_arity",
    "require_finite",
    "require_nonempty",
    "require_optional_callable",
    "require_options",
    "require_positive_int",
    "require_verbosity",
    "seed_as_int",
]
