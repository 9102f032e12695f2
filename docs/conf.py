"""Sphinx configuration of the manifoldscape documentation.

Build (warnings are errors, code examples are run)::

    sphinx-build -W -b html docs docs/_build/html
    sphinx-build -W -b doctest docs docs/_build/doctest
"""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import manifoldscape

project = "manifoldscape"
author = "the manifoldscape authors"
copyright = "the manifoldscape authors"
release = version = manifoldscape.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.doctest",
]

autodoc_member_order = "bysource"
autodoc_typehints = "none"
autodoc_default_options = {"members": True, "undoc-members": False}
napoleon_google_docstring = True
napoleon_numpy_docstring = True

doctest_global_setup = """
import numpy as np
np.set_printoptions(precision=4, suppress=True)
"""

exclude_patterns = ["_build"]
html_theme = "alabaster"


def _plain_text_math(app, what, name, obj, options, lines):
    """Escape the bars of plain-text math (|x|) that reST would read as substitutions."""
    for i, line in enumerate(lines):
        if "|" in line and not line.lstrip().startswith(">>>"):
            lines[i] = line.replace("|", "\\|")


def setup(app):
    """Register the docstring hook."""
    app.connect("autodoc-process-docstring", _plain_text_math)
