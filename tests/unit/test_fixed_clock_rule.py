"""The rule that keeps itself: no test reads the wall clock (`datetime.now()`, `datetime.utcnow()`,
`datetime.today()`, `date.today()`, `time.time()`); tests read `companyos.domain.clock.now()` (started at a
fixed instant by tests/conftest.py) or use explicit instants, so no result depends on today's date
or the time of day. Durations (`time.monotonic`, `time.perf_counter`) are fine. A line that must
read the wall clock says why in a `# wall clock:` comment."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
WALL_CLOCK = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today")}
WALL_CLOCK |= {("time", "time"), ("time", "time_ns")}
EXEMPT = "# wall clock:"


def _name(node: ast.expr) -> str | None:
    """`datetime` for `datetime` and for `datetime.datetime` (the module-qualified class)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def wall_clock_reads(source: str) -> list[tuple[int, str]]:
    """(line, call) of every wall-clock read in `source` not marked with a `# wall clock:` reason."""
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        call = (_name(node.func.value), node.func.attr)
        if call in WALL_CLOCK and EXEMPT not in lines[node.lineno - 1]:
            found.append((node.lineno, f"{call[0]}.{call[1]}()"))
    return found


def test_the_scan_finds_each_wall_clock_read_and_honours_a_stated_reason():
    source = (
        "import datetime as dt, time\n"
        "from datetime import UTC, date, datetime\n"
        "a = datetime.now(UTC)\n"
        "b = date.today()\n"
        "c = time.time()\n"
        "d = dt.datetime.utcnow()\n"
        "e = datetime.now(UTC)  # wall clock: a report stamp\n"
        "f = time.monotonic() + clock.now().hour\n"
    )
    assert wall_clock_reads(source) == [
        (3, "datetime.now()"),
        (4, "date.today()"),
        (5, "time.time()"),
        (6, "datetime.utcnow()"),
    ]


def test_no_test_reads_the_wall_clock():
    offenders = [
        f"{path.relative_to(TESTS.parent)}:{line}: {call}"
        for path in sorted(TESTS.rglob("*.py"))
        for line, call in wall_clock_reads(path.read_text())
    ]
    assert not offenders, "tests read companyos.domain.clock.now(), not the wall clock:\n" + "\n".join(
        offenders
    )
