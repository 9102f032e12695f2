"""Packaging and layering: what setup.cfg ships matches the folders, and imports point down.

The layers (DESIGN.md): the core (``manifoldscape/`` minus the workflow modules) knows no
concrete problem or solver; ``problems/`` and ``solvers/`` import the core only, never each
other, never the workflows.  Every module is read with ``ast`` (nothing is imported), so a
violation is found even in a function-level import.
"""

from __future__ import annotations

import ast
import configparser
import contextlib
import importlib.metadata
import importlib.util
import io
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# the workflow layer of manifoldscape/: everything else in that folder is core.  Add a new
# workflow module (plots, census, sweep, …) here when it is written.
WORKFLOW_MODULES = frozenset(
    {
        "workflows",
        "cli",
        "__init__",
        "__main__",
        "testing",
        "plots",
        "census",
        "sweep",
        "store",
        "commands",
    }
)
SOURCE_FOLDERS = {
    "manifoldscape": "manifoldscape",
    "problems": "manifoldscape.problems",
    "solvers": "manifoldscape.solvers",
}


def _setup_cfg() -> configparser.ConfigParser:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    return config


def _listed(config: configparser.ConfigParser, key: str) -> list[str]:
    return [line.strip() for line in config["options"][key].splitlines() if line.strip()]


def _package_of(folder: Path) -> str:
    """The installed package name of a source folder (problems/x → manifoldscape.problems.x)."""
    relative = folder.relative_to(ROOT)
    top, *rest = relative.parts
    return ".".join([SOURCE_FOLDERS[top], *rest])


def _python_folders() -> list[Path]:
    folders = []
    for top in SOURCE_FOLDERS:
        for folder in [ROOT / top, *sorted(p for p in (ROOT / top).rglob("*") if p.is_dir())]:
            if "__pycache__" in folder.parts or any(
                part.startswith(".") for part in folder.relative_to(ROOT).parts
            ):
                continue
            if any(folder.glob("*.py")):
                folders.append(folder)
    return folders


# --------------------------------------------------------------------------- setup.cfg
def test_packages_list_matches_the_folders_on_disk():
    config = _setup_cfg()
    packages = _listed(config, "packages")
    assert len(packages) == len(set(packages)), f"duplicates in packages: {packages}"
    folders = _python_folders()
    for folder in folders:
        assert (folder / "__init__.py").is_file(), f"{folder.relative_to(ROOT)} has no __init__.py"
    on_disk = {_package_of(folder) for folder in folders}
    assert set(packages) == on_disk, (
        f"setup.cfg packages {sorted(packages)} differ from the folders with Python files "
        f"{sorted(on_disk)}"
    )


def test_package_dir_maps_the_three_top_level_folders():
    config = _setup_cfg()
    mapping = dict(
        (part.strip() for part in line.split("=", 1)) for line in _listed(config, "package_dir")
    )
    assert mapping == {name: folder for folder, name in SOURCE_FOLDERS.items()}
    for folder in mapping.values():
        assert (ROOT / folder / "__init__.py").is_file()
    assert "find:" not in config["options"]["packages"]


def test_console_script_points_at_cli_main():
    config = _setup_cfg()
    scripts = config["options.entry_points"]["console_scripts"]
    assert "manifoldscape = manifoldscape.cli:main" in [s.strip() for s in scripts.splitlines()]
    installed = {
        ep.name: ep.value for ep in importlib.metadata.entry_points(group="console_scripts")
    }
    assert installed.get("manifoldscape") == "manifoldscape.cli:main"
    from manifoldscape.cli import main

    assert callable(main)


def test_pyproject_holds_no_project_metadata():
    import tomllib

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "project" not in pyproject, "metadata belongs in setup.cfg (STYLE.md, Packaging)"
    assert "build-system" in pyproject


def test_no_tests_package_and_no_root_conftest():
    assert not (ROOT / "tests" / "__init__.py").exists()
    assert not (ROOT / "conftest.py").exists()


def test_installed_libraries_resolve_to_the_mapped_folders():
    import manifoldscape.problems
    import manifoldscape.solvers

    assert Path(manifoldscape.problems.__file__).parent.name == "problems"
    assert Path(manifoldscape.solvers.__file__).parent.name == "solvers"


@pytest.mark.parametrize("folder", ["problems", "solvers"])
def test_library_refuses_to_be_imported_under_another_name(folder):
    path = ROOT / folder / "__init__.py"
    spec = importlib.util.spec_from_file_location(folder, path)
    module = importlib.util.module_from_spec(spec)
    with pytest.raises(ImportError, match=f"manifoldscape.{folder}"):
        spec.loader.exec_module(module)
    assert folder not in sys.modules


# --------------------------------------------------------------------------- import direction
def _module_name(path: Path) -> str:
    package = _package_of(path.parent)
    return package if path.stem == "__init__" else f"{package}.{path.stem}"


def imported_modules(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module an import statement in ``source`` can load, relative imports resolved.

    ``from a.b import c`` yields both ``a.b`` and ``a.b.c`` (c may be a submodule).
    """
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base_parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return found


def _is_within(name: str, prefixes: set[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


WORKFLOWS = {f"manifoldscape.{name}" for name in WORKFLOW_MODULES if name != "__init__"}
PROBLEMS = {"manifoldscape.problems", "problems"}
SOLVERS = {"manifoldscape.solvers", "solvers"}


def _layer_modules() -> dict[str, list[Path]]:
    core = [
        path
        for path in sorted((ROOT / "manifoldscape").rglob("*.py"))
        if path.relative_to(ROOT / "manifoldscape").parts[0].removesuffix(".py")
        not in WORKFLOW_MODULES
        and "__pycache__" not in path.parts
    ]
    return {
        "core": core,
        "problems": sorted((ROOT / "problems").rglob("*.py")),
        "solvers": sorted((ROOT / "solvers").rglob("*.py")),
    }


FORBIDDEN = {
    "core": PROBLEMS | SOLVERS | WORKFLOWS,
    "problems": SOLVERS | WORKFLOWS,
    "solvers": PROBLEMS | WORKFLOWS,
}


def violations(layer: str, path: Path) -> list[str]:
    """The imports of the module at ``path`` that point across or up from ``layer``."""
    name = _module_name(path)
    imports = imported_modules(
        path.read_text(encoding="utf-8"), name, is_package=path.stem == "__init__"
    )
    return sorted(f"{name} imports {i}" for i in imports if _is_within(i, FORBIDDEN[layer]))


def test_the_layers_hold_modules():
    layers = _layer_modules()
    core_names = {p.stem for p in layers["core"]}
    assert {"problem", "registry", "geometry"} <= core_names
    assert not core_names & {"cli", "workflows"}
    assert any(p.stem == "eigen" for p in layers["problems"])
    assert layers["solvers"], "solvers/ holds no module"


@pytest.mark.parametrize("layer", ["core", "problems", "solvers"])
def test_imports_point_down(layer):
    found = [v for path in _layer_modules()[layer] for v in violations(layer, path)]
    assert not found, f"{layer} imports across or up the layers: {found}"


def test_the_import_checker_sees_violations():
    # a checker that cannot fail checks nothing: feed it the imports it must catch
    source = (
        "import numpy\n"
        "from manifoldscape.problem import Problem\n"
        "def later():\n"
        "    from ..solvers import trust_regions\n"
        "    from manifoldscape import workflows\n"
        "    import manifoldscape.problems.eigen\n"
    )
    found = imported_modules(source, "manifoldscape.problems.fancy")
    assert "manifoldscape.solvers.trust_regions" in found
    assert "manifoldscape.workflows" in found
    assert "manifoldscape.problems.eigen" in found
    assert _is_within("manifoldscape.solvers.trust_regions", FORBIDDEN["problems"])
    assert _is_within("manifoldscape.workflows", FORBIDDEN["problems"])
    assert _is_within("manifoldscape.problems.eigen", FORBIDDEN["core"])
    assert not _is_within("manifoldscape.problem", FORBIDDEN["core"])
    assert not _is_within("manifoldscape.problems_extra", PROBLEMS)
    # a relative import inside a package's __init__ resolves against the package itself
    assert "manifoldscape.problems.eigen" in imported_modules(
        "from .eigen import rayleigh", "manifoldscape.problems", is_package=True
    )


# --------------------------------------------------------------------------- README
def test_readme_shows_the_two_commands_and_a_running_example(tmp_path, monkeypatch):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```(\w*)\n(.*?)```", readme, re.S)
    shell = [body.strip() for lang, body in blocks if lang == "bash"]
    assert "pip install -e . && manifoldscape solve rayleigh" in shell
    assert 'pip install -e ".[test]" && pytest' in shell  # the command .ci/run runs
    assert 'pip install -e ".[test]"' in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    examples = [body for lang, body in blocks if lang == "python"]
    assert examples, "README.md has no Python example"
    monkeypatch.chdir(tmp_path)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(examples[0], "README.md", "exec"), {})
    assert "local_minimizer" in printed.getvalue()
