"""publish/render/ only formats: it imports nothing from storage/ or channels/ (checked with ast)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

RENDER = Path(__file__).resolve().parents[2] / "src" / "iam_inventory" / "publish" / "render"
FORBIDDEN = ("iam_inventory.publish.storage", "iam_inventory.publish.channels")


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, `from x import y` counted as x and x.y (y may be a module)."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: relative import"
            base = node.module or ""
            modules.add(base)
            modules.update(f"{base}.{alias.name}" for alias in node.names)
    return modules


@pytest.mark.parametrize("path", sorted(RENDER.glob("*.py")), ids=lambda path: path.name)
def test_a_renderer_imports_no_storage_and_no_channel(path):
    # Given a module of publish/render/, when its imports are read
    imported = imported_modules(path)
    # Then none of them is, or is inside, publish/storage/ or publish/channels/
    assert not [name for name in imported if name.startswith(FORBIDDEN)]


def test_the_check_sees_the_renderers_and_would_catch_a_forbidden_import(tmp_path):
    # Given the render folder, and a file importing a sink
    bad = tmp_path / "bad.py"
    bad.write_text("from iam_inventory.publish.storage.file_sinks import S3Sink\n")
    # Then the render folder has the formats, and the bad file's import is seen
    assert {"report_json.py", "tables.py", "index_html.py", "owners.py"} <= {
        p.name for p in RENDER.glob("*.py")
    }
    assert "iam_inventory.publish.storage.file_sinks.S3Sink" in imported_modules(bad)
