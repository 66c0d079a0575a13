"""The house stays in order (#15): no module over 450 lines and no function over 80 lines outside the
tests, measured with an AST scan of everything that ships or provisions (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ["layers/core/python/companyos", "functions", "infra", "tools", "app.py"]
MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 80


def _sources() -> list[Path]:
    out: list[Path] = []
    for entry in SCANNED:
        p = ROOT / entry
        files = [p] if p.is_file() else sorted(p.rglob("*.py"))
        out += [f for f in files if "deps" not in f.relative_to(ROOT).parts]
    return out


def test_the_scan_sees_the_code() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in _sources()}
    assert "layers/core/python/companyos/domain/verdict.py" in names
    assert "functions/read_api/app.py" in names and "infra/local/stack.py" in names


def test_no_module_is_over_450_lines() -> None:
    long = {
        p.relative_to(ROOT).as_posix(): n
        for p in _sources()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}, f"split these modules by responsibility: {long}"


def test_no_function_is_over_80_lines() -> None:
    long: dict[str, int] = {}
    for p in _sources():
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = (node.end_lineno or node.lineno) - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long[f"{p.relative_to(ROOT).as_posix()}:{node.lineno} {node.name}"] = n
    assert long == {}, f"split these functions: {long}"
