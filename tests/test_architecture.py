"""The package's import structure against the layer order of docs/architecture.md (issue 15).

The layer table is read from docs/architecture.md itself, so the document and this test
cannot drift apart. Every import statement of ``pipeline`` and ``geometries`` is walked with
the AST (module level and inside functions alike):

* every module belongs to exactly one layer (its most specific pattern in the table);
* no module imports from a layer below it in the table (a higher number);
* the import graph has no cycle;
* no module imports another module's private names (``_x``; dunders excepted);
* a function-level import only defers a heavy dependency: a third-party package of
  :data:`HEAVY`, or (in the api and command layers) the library module behind one verb,
  and says so in a comment containing "defer" on its line or the line above.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pipeline", "geometries")

#: third-party packages whose import is deferred into the function that needs them: plotting,
#: labelled arrays and files, the distributed scheduler and batch systems, the mesher, the
#: optional sparse Cholesky and storage back-ends, and scipy's slower submodules
HEAVY = {
    "matplotlib", "xarray", "distributed", "dask", "dask_jobqueue", "gmsh", "sksparse",
    "zarr", "yaml", "meshio", "skfem", "scipy", "netCDF4", "h5netcdf", "psutil",
}  # fmt: skip
#: layers whose function-level imports may also defer a library stage (one per verb)
DEFERRING_LAYERS = {"api", "commands"}


def _modules() -> dict[str, Path]:
    mods = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            mods[name] = path
    return mods


def _layers() -> list[tuple[int, str, list[str]]]:
    """(rank, name, patterns) rows of the layer table in docs/architecture.md."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    section = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        m = re.match(r"\|\s*(\d+)\s+([a-z]+)\s*\|(.*)\|\s*$", line)
        if m:
            rows.append((int(m.group(1)), m.group(2), re.findall(r"`([\w.*]+)`", m.group(3))))
    return rows


def _layer_of(module: str, rows) -> tuple[int, str] | None:
    best = None
    for rank, name, patterns in rows:
        for pat in patterns:
            if pat.endswith(".*"):
                base = pat[:-2]
                ok = module == base or module.startswith(base + ".")
                spec = len(base)
            else:
                ok, spec = module == pat, len(pat) + 1  # an exact name beats a wildcard
            if ok and (best is None or spec > best[0]):
                best = (spec, rank, name)
    return None if best is None else best[1:]


class _Imports(ast.NodeVisitor):
    """Import statements with (line, target module, names, function-level?)."""

    def __init__(self, module: str, is_package: bool):
        self.module, self.is_package, self.depth, self.found = module, is_package, 0, []
        self.spans, self.spans_of_found = [], []  # (first, last line) of every statement

    def visit_FunctionDef(self, node):
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Import(self, node):
        self.spans.append((node.lineno, node.end_lineno))
        for a in node.names:
            self.found.append((node.lineno, a.name, [], self.depth > 0))
            self.spans_of_found.append((node.lineno, node.end_lineno))

    def visit_ImportFrom(self, node):
        if node.level:
            base = self.module.split(".")
            if not self.is_package:
                base = base[:-1]
            base = base[: len(base) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        self.found.append((node.lineno, target, [a.name for a in node.names], self.depth > 0))
        self.spans.append((node.lineno, node.end_lineno))
        self.spans_of_found.append((node.lineno, node.end_lineno))


def _graph():
    mods = _modules()
    edges, records = {m: set() for m in mods}, []
    for mod, path in mods.items():
        v = _Imports(mod, path.name == "__init__.py")
        v.visit(ast.parse(path.read_text(), str(path)))
        lines = path.read_text().splitlines()
        import_lines = {n for (start, end) in v.spans for n in range(start, end + 1)}
        for (lineno, target, names, nested), (start, end) in zip(v.found, v.spans_of_found, strict=True):
            above = start - 1  # one comment serves a block of consecutive imports
            while above in import_lines:
                above -= 1
            comment = " ".join(lines[max(above - 1, 0) : end])
            internal = target.split(".")[0] in PACKAGES
            deps = []
            if internal:
                for n in names or [None]:
                    full = f"{target}.{n}" if n else target
                    deps.append(full if full in mods else target)
            for dep in deps:
                if dep in mods and dep != mod:
                    edges[mod].add(dep)
            records.append((mod, lineno, target, names, nested, internal, deps, comment))
    return mods, edges, records


MODS, EDGES, RECORDS = _graph()
ROWS = _layers()


def test_the_layer_table_is_read():
    # ten layers are written down; a parsing slip would make every later test vacuous
    assert [r[0] for r in ROWS] == list(range(len(ROWS))) and len(ROWS) >= 8


def test_every_module_has_a_layer():
    missing = [m for m in MODS if _layer_of(m, ROWS) is None]
    assert not missing, f"modules not in the layer table of docs/architecture.md: {missing}"


def test_imports_follow_the_layer_order():
    bad = []
    for mod, deps in EDGES.items():
        own = _layer_of(mod, ROWS)
        for dep in deps:
            other = _layer_of(dep, ROWS)
            if own and other and other[0] > own[0]:
                bad.append(f"{mod} ({own[1]}) imports {dep} ({other[1]})")
    assert not bad, "imports against the layer order:\n" + "\n".join(sorted(bad))


def test_no_import_cycle():
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    index, low, stack, on, cycles, counter = {}, {}, [], set(), [], [0]

    def visit(v):  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in EDGES[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in EDGES:
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


def test_no_private_names_from_other_modules():
    bad = [
        f"{mod}:{line} imports {n} from {target}"
        for mod, line, target, names, _, internal, _, _ in RECORDS
        for n in names
        if internal and target != mod and n.startswith("_") and not n.startswith("__")
        and f"{target}.{n}" not in MODS
    ]
    assert not bad, "\n".join(bad)


def test_function_level_imports_only_defer_heavy_dependencies():
    bad = []
    for mod, line, target, _, nested, internal, _, comment in RECORDS:
        if not nested:
            continue
        layer = _layer_of(mod, ROWS)
        allowed = (target.split(".")[0] in HEAVY) or (
            internal and layer is not None and layer[1] in DEFERRING_LAYERS
        )
        if not allowed:
            bad.append(f"{mod}:{line} function-level import of {target}")
        elif "defer" not in comment.lower():
            bad.append(f"{mod}:{line} function-level import of {target} without a 'defer' comment")
    assert not bad, f"{len(bad)} function-level imports:\n" + "\n".join(bad)


@pytest.mark.parametrize("limit", [600])
def test_modules_stay_small(limit):
    # issue 15: module sizes stay under 600 lines
    big = {m: n for m, p in MODS.items() if (n := len(p.read_text().splitlines())) >= limit}
    assert not big, f"modules of {limit} lines or more: {big}"
