"""The import direction the layout promises: core knows no vertical, redaction knows no pack, demos reach packs
through the registry. The command line (core/cli.py) is the one module of core that wires in redaction/ and demos/,
and only inside functions, so that importing core never imports them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(imported top-level package, at module level?) for every import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top_level = {id(node) for node in tree.body}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name.split(".")[0], id(node) in top_level) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module.split(".")[0], id(node) in top_level))
    return out


def _files(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py"))


@pytest.mark.parametrize(
    "package, forbidden",
    [("core", {"verticals", "redaction", "demos", "bench"}), ("redaction", {"verticals", "demos", "bench"}),
     ("verticals", {"demos", "bench", "redaction"}), ("demos", {"verticals", "bench"})],
)  # fmt: skip
def test_import_direction(package, forbidden):
    bad = []
    for path in _files(package):
        for name, module_level in _imports(path):
            if name not in forbidden:
                continue
            if path == ROOT / "core" / "cli.py" and not module_level and name in {"redaction", "demos"}:
                continue  # the composition root, lazily
            bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not bad, bad


def test_importing_core_imports_no_vertical_or_scrubber():
    import subprocess
    import sys

    code = (
        "import sys, core.cli, core.pipeline, core.evaluation, core.loaded_run;"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'verticals', 'redaction', 'demos'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"
