"""One vocabulary: no module outside the verdict model writes a status word itself.

A status is a `companyos.domain.verdict.Band` member; Python code elsewhere may compare with or
pass along a band, but never spell one ("healthy", "critical", …) as the status of something. The
scan is an AST walk over the domain package and the handlers: a band word as the value of a
`"status"` key, assigned to a name ending in `status`, returned, or offered as a conditional's
branch is a finding (a capitalised label in display text is not). Severity words of scanners
("critical", "high") are not statuses and are not flagged where they are not used as one. The
web side has its own single status map (web/js/status.js; tests/e2e checks the rendered words).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = [ROOT / "layers" / "core" / "python" / "companyos", ROOT / "functions"]
ALLOWED = {ROOT / "layers" / "core" / "python" / "companyos" / "model" / "verdict.py"}
BANDS = {"excellent", "healthy", "attention", "warning", "critical", "unknown"}


def _band(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in BANDS


def _branches(node: ast.AST) -> list[ast.AST]:
    return [node.body, node.orelse] if isinstance(node, ast.IfExp) else [node]


def findings(source: str, name: str) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values, strict=True):
                if isinstance(k, ast.Constant) and k.value == "status" and any(map(_band, _branches(v))):
                    out.append(f"{name}:{node.lineno} status word in a 'status' entry")
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            named = any(isinstance(t, ast.Name) and t.id.endswith("status") for t in targets)
            if named and node.value is not None and any(map(_band, _branches(node.value))):
                out.append(f"{name}:{node.lineno} status word assigned")
        elif isinstance(node, ast.Return) and node.value is not None:
            values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
            if any(_band(b) for v in values for b in _branches(v)):
                out.append(f"{name}:{node.lineno} status word returned")
        elif (
            isinstance(node, ast.keyword) and node.arg == "status" and any(map(_band, _branches(node.value)))
        ):
            out.append(f"{name}:{node.lineno} status word passed as status=")
    return out


def test_the_scan_finds_hand_made_statuses():
    sample = (
        'def f(x):\n    status = "healthy" if x else "critical"\n    return {"status": "warning"}\n'
        'def g():\n    return "unknown", None\n'
        'def h():\n    return {"severity": "critical", "status": band(x)}\n'
    )
    assert sorted(findings(sample, "s")) == [
        "s:2 status word assigned",
        "s:3 status word in a 'status' entry",
        "s:5 status word returned",
    ]


def test_no_status_word_outside_the_verdict_model():
    found = [
        f
        for base in SCANNED
        for path in sorted(base.rglob("*.py"))
        if path not in ALLOWED
        for f in findings(path.read_text(), str(path.relative_to(ROOT)))
    ]
    assert not found, "statuses must come from companyos.domain.verdict:\n" + "\n".join(found)
