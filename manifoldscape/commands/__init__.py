"""The workflow commands of the ``manifoldscape`` CLI, one module per command.

Each module defines ``add_command(commands, plot_kinds, shared)``: ``commands`` is the top-level
``argparse`` subparsers object, ``plot_kinds`` the subparsers of ``manifoldscape plot`` (a module
adds its picture kinds there), and ``shared`` the CLI's helpers (``add_instance_arguments``,
``build_problem``, ``print_json``, ``UsageError`` …).  A command sets ``run=callable(args) -> int``
with ``set_defaults``, and turns the library's ``ValueError``/``TypeError`` into
``shared.UsageError`` (reported on one line with exit status 2).
"""
