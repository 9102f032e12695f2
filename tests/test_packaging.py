"""Packaging and layering: what setup.cfg ships matches the folders, and imports point down.

The layers (DESIGN.md), bottom to top: boundary, geometry, core, the problem and solver
libraries (never each other), landscape, experiments, commands; imports point down only and form
no circle.  Every module is read with ``ast`` (nothing is imported), so a
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

# The layers of manifoldscape (DESIGN.md), bottom to top: a module may import its own layer and
# the layers below it, never one above.  ``problems`` and ``solvers`` share a rank and never
# import each other.  The façade modules at the top of the package (``__init__``, ``cli``,
# ``testing``, ``__main__``) sit above everything.
LAYERS = {
    "manifoldscape.boundary": 0,
    "manifoldscape.geometry": 1,
    "manifoldscape.core": 2,
    "manifoldscape.problems": 3,
    "manifoldscape.solvers": 3,
    "manifoldscape.landscape": 4,
    "manifoldscape.experiments": 5,
    "manifoldscape.commands": 6,
}
FACADE = {"manifoldscape", "manifoldscape.cli", "manifoldscape.testing", "manifoldscape.__main__"}
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


def test_py_typed_ships_in_the_three_packages():
    """PEP 561: a py.typed marker in each installed package, listed in package_data (CI checks
    that the built wheel carries the three markers)."""
    config = _setup_cfg()
    package_data = {
        name.strip(): value.split() for name, value in config["options.package_data"].items()
    }
    for folder, package in SOURCE_FOLDERS.items():
        assert (ROOT / folder / "py.typed").is_file(), f"{folder}/py.typed is missing"
        assert "py.typed" in package_data.get(package, []), (
            f"setup.cfg [options.package_data] does not ship py.typed in {package}"
        )


def test_classifiers_name_the_python_versions_allowed():
    config = _setup_cfg()
    classifiers = [line.strip() for line in config["metadata"]["classifiers"].splitlines()]
    minimum = re.fullmatch(r">=\s*3\.(\d+)", config["options"]["python_requires"].strip())
    assert minimum is not None
    versions = [
        int(match.group(1))
        for line in classifiers
        if (match := re.fullmatch(r"Programming Language :: Python :: 3\.(\d+)", line))
    ]
    assert versions, "no classifier names a Python version"
    assert min(versions) >= int(minimum.group(1)), (
        "a classifier names a Python below python_requires"
    )
    assert "Typing :: Typed" in classifiers


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


def _layer_of(module: str) -> str | None:
    """The layer (a key of LAYERS), "facade", or None for a module outside manifoldscape."""
    for layer in LAYERS:
        if module == layer or module.startswith(layer + "."):
            return layer
    if module in FACADE:
        return "facade"
    if module in {"problems", "solvers"} or module.startswith(("problems.", "solvers.")):
        return f"manifoldscape.{module.split('.')[0]}"  # a bare import of a source folder
    return None


def _source_modules() -> list[tuple[str, Path]]:
    out = []
    for top in SOURCE_FOLDERS:
        for path in sorted((ROOT / top).rglob("*.py")):
            if "__pycache__" not in path.parts:
                out.append((_module_name(path), path))
    return out


def violations(module: str, source: str, is_package: bool = False) -> list[str]:
    """The imports of ``module`` that point up or across the layers."""
    own = _layer_of(module)
    if own == "facade":
        return []
    found = []
    for imported in imported_modules(source, module, is_package):
        target = _layer_of(imported)
        if target is None or target == own:
            continue
        if target == "facade" or LAYERS[target] >= LAYERS[own]:
            found.append(f"{module} imports {imported}")
    return sorted(found)


def test_every_module_belongs_to_a_layer():
    homeless = [name for name, _ in _source_modules() if _layer_of(name) is None]
    assert not homeless, f"modules outside every layer (add a folder to LAYERS): {homeless}"
    layers = {_layer_of(name) for name, _ in _source_modules()}
    assert set(LAYERS) <= layers, f"layers without a module: {set(LAYERS) - layers}"


def test_imports_point_down():
    found = [
        v
        for name, path in _source_modules()
        for v in violations(name, path.read_text(encoding="utf-8"), path.stem == "__init__")
    ]
    assert not found, f"imports across or up the layers: {found}"


def _module_level_imports(source: str, module: str, is_package: bool) -> set[str]:
    """Imports executed when the module is loaded (not in functions, not under TYPE_CHECKING)."""
    tree = ast.parse(source)
    kept = []
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.Try, ast.If)):
            kept.append(node)
    return imported_modules(ast.unparse(ast.Module(kept, [])), module, is_package)


def test_no_import_circles():
    modules = dict(_source_modules())
    graph = {}
    for name, path in modules.items():
        imports = _module_level_imports(
            path.read_text(encoding="utf-8"), name, path.stem == "__init__"
        )
        # a package is loaded before its submodules: that edge is not a circle
        graph[name] = {
            i for i in imports if i in modules and i != name and not name.startswith(i + ".")
        }
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*trail[trail.index(nxt) :], nxt] if nxt in trail else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, f"import circles: {cycles[:5]}"


def test_the_import_checker_sees_violations():
    # a checker that cannot fail checks nothing: feed it the imports it must catch
    source = (
        "import numpy\n"
        "from manifoldscape.core.problem import Problem\n"
        "def later():\n"
        "    from ..solvers import trust_regions\n"
        "    from manifoldscape.landscape import census\n"
        "    import manifoldscape.problems.eigen\n"
    )
    found = violations("manifoldscape.problems.fancy", source)
    assert any("manifoldscape.solvers.trust_regions" in v for v in found)
    assert any("manifoldscape.landscape" in v for v in found)
    assert not any("manifoldscape.problems.eigen" in v for v in found)
    assert not any("manifoldscape.core.problem" in v for v in found)
    assert violations("manifoldscape.core.problem", "from manifoldscape.geometry import x") == []
    assert violations("manifoldscape.geometry.points", "import manifoldscape.core.problem")
    assert violations("manifoldscape.core.loop", "import manifoldscape.testing")
    assert _layer_of("manifoldscape.problems_extra") is None
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
