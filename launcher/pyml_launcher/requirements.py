"""A model home's own requirements against the code that imports them and the environment that
trained it: what the image build would miss, caught before it runs.

`unlisted_imports`: the modules the home's Python files import that neither the standard
library, the home itself, the PyML runtime's dependencies (every image has them) nor a line of
``requirements.txt`` provides; the image would not have them. Imports guarded by ``except
ImportError`` are optional and not counted.

`pinned_requirements`: ``requirements.txt`` with each requirement pinned ``==`` to the version
installed here (the environment that trained the model) when its specifier allows that version
(a plain name always does), and the requirements whose specifier excludes it (drift: the image
would compute with another version than the one that trained the model). The build installs the
pinned text and the manifest records the pins.
"""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pyml_launcher.materials import normalize, runtime_pins

REQUIREMENTS = "requirements.txt"
# A home's files read for imports: bounded, as a home may hold anything.
_MAX_FILES = 500
_MAX_FILE_BYTES = 2 * 1024 * 1024
_SKIPPED_DIRS = {"validation", "__pycache__", ".git", ".venv", "venv", "node_modules"}
_OURS = {"pyml", "pyml_runtime", "__future__"}
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$")


@dataclass(frozen=True)
class UnlistedImport:
    """A module the code imports that the image would not have."""

    module: str
    where: str  # file:line, relative to the home
    distribution: str | None  # what provides it here, if it is installed
    version: str | None

    def requirement(self) -> str:
        """The line to add to requirements.txt."""
        if self.distribution is None:
            return f"<the package that provides '{self.module}'>"
        return f"{self.distribution}=={self.version}" if self.version else self.distribution


@dataclass(frozen=True)
class Drift:
    name: str
    asked: str  # the file's specifier, e.g. "==1.4.2" or ">=1.3"
    installed: str


@dataclass(frozen=True)
class PinnedRequirements:
    text: str  # requirements.txt with plain names pinned (what the image installs)
    pins: dict[str, str]  # normalized name -> the version installed here
    drift: list[Drift]


def unlisted_imports(home: Path) -> list[UnlistedImport]:
    """The home's imports that nothing in the image would provide (see the module docstring)."""
    local = _local_modules(home)
    listed = set(_listed_names(home / REQUIREMENTS))
    provided = set(runtime_pins())
    providers = metadata.packages_distributions()
    found: dict[str, UnlistedImport] = {}
    for module, where in _imports(home):
        if module in found or module in local or module in _OURS:
            continue
        if module in sys.stdlib_module_names:
            continue
        distributions = providers.get(module, [])
        names = {normalize(d) for d in distributions}
        if names & (listed | provided):
            continue
        distribution = distributions[0] if distributions else None
        version = _installed(distribution) if distribution else None
        found[module] = UnlistedImport(module, where, distribution, version)
    return list(found.values())


def pinned_requirements(home: Path) -> PinnedRequirements:
    """requirements.txt pinned to this environment's versions (see the module docstring)."""
    path = home / REQUIREMENTS
    if not path.is_file():
        return PinnedRequirements("", {}, [])
    lines: list[str] = []
    pins: dict[str, str] = {}
    drift: list[Drift] = []
    for line in path.read_text(errors="replace").splitlines():
        requirement = _requirement(line)
        installed = _installed(requirement.name) if requirement is not None else None
        if requirement is None or installed is None:
            lines.append(line)  # an option, a URL, or not installed here: pip decides
            continue
        if not _allows(requirement.specifier, installed):
            lines.append(line)
            drift.append(Drift(requirement.name, requirement.specifier, installed))
            continue
        pins[normalize(requirement.name)] = installed
        marker = f" ; {requirement.marker}" if requirement.marker else ""
        lines.append(f"{requirement.name}{requirement.extras}=={installed}{marker}")
    return PinnedRequirements("\n".join(lines) + "\n", pins, drift)


@dataclass(frozen=True)
class _Requirement:
    name: str
    extras: str  # "[a,b]" or ""
    specifier: str  # ">=1.3,<2" or ""
    marker: str


def _allows(specifier: str, version: str) -> bool:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        return SpecifierSet(specifier).contains(version, prereleases=True)
    except InvalidSpecifier:
        return False  # pip reads it, or refuses it, in the image


def _requirement(line: str) -> _Requirement | None:
    """A requirement line's parts; None for comments, options, URLs and paths."""
    text = line.split("#", 1)[0].strip()
    if not text or text.startswith("-") or "://" in text or text.startswith((".", "/")):
        return None
    match = _NAME.match(text)
    if match is None or "@" in match[3]:
        return None
    specifier, _, marker = match[3].partition(";")
    return _Requirement(match[1], match[2] or "", specifier.replace(" ", ""), marker.strip())


def _listed_names(path: Path) -> Iterator[str]:
    if not path.is_file():
        return
    for line in path.read_text(errors="replace").splitlines():
        requirement = _requirement(line)
        if requirement is not None:
            yield normalize(requirement.name)


def _installed(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _python_files(home: Path) -> Iterator[Path]:
    count = 0
    for path in sorted(home.rglob("*.py")):
        relative = path.relative_to(home).parts
        if any(part in _SKIPPED_DIRS or part.startswith(".") for part in relative[:-1]):
            continue
        if not path.is_file() or path.stat().st_size > _MAX_FILE_BYTES:
            continue
        count += 1
        if count > _MAX_FILES:
            return
        yield path


def _local_modules(home: Path) -> set[str]:
    """Top-level names the home itself provides: its .py files and folders."""
    names = {p.stem for p in home.glob("*.py")}
    names |= {p.name for p in home.iterdir() if p.is_dir()}
    return names


def _imports(home: Path) -> Iterator[tuple[str, str]]:
    """(top-level module, file:line) of each absolute import that is not optional."""
    for path in _python_files(home):
        try:
            tree = ast.parse(path.read_bytes(), filename=str(path))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue  # loading the model reports it (a file nested too deep included)
        where = path.relative_to(home).as_posix()
        for node, optional in _walk(tree, False):
            if optional:
                continue
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield alias.name.split(".")[0], f"{where}:{node.lineno}"
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                yield node.module.split(".")[0], f"{where}:{node.lineno}"


def _walk(node: ast.AST, optional: bool) -> Iterator[tuple[ast.AST, bool]]:
    yield node, optional
    guarded = isinstance(node, ast.Try) and any(_catches_import_error(h) for h in node.handlers)
    for child in ast.iter_child_nodes(node):
        in_body = guarded and isinstance(node, ast.Try) and child in node.body
        yield from _walk(child, optional or in_body)


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    caught = handler.type
    if caught is None:
        return True
    names = caught.elts if isinstance(caught, ast.Tuple) else [caught]
    return any(
        isinstance(n, ast.Name) and n.id in ("ImportError", "ModuleNotFoundError", "Exception")
        for n in names
    )
