"""Benchmark report: every benchmark records its figures and the ratio it is judged by through the
session-wide `bench_report` fixture; `make bench` writes them all to `bench-report.json` at the repo
root (git-ignored) and prints them at the end of the run.

    def test_bench_something(bench_report):
        seconds = bench_report.best_of(lambda: work(1_000))
        ratio = bench_report.record(
            "something",
            figures={"seconds_1000": seconds, ...},
            ratio=("t(2000)/t(1000)", t2000 / t1000, 2.3),  # (name, value, upper limit)
        )
        assert ratio.ok, ratio

A ratio's `limit` is an upper bound: `ok` is `value <= limit`. Absolute speed is reported, not
asserted (it depends on the machine); the ratio is the check.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
REPORT_PATH = ROOT / "bench-report.json"

Figure = float | int | str


@dataclass(frozen=True)
class Ratio:
    name: str
    value: float
    limit: float

    @property
    def ok(self) -> bool:
        return self.value <= self.limit

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"ok": self.ok}


@dataclass
class BenchReport:
    benchmarks: list[dict[str, Any]] = field(default_factory=list)

    def record(
        self, name: str, *, figures: Mapping[str, Figure], ratio: tuple[str, float, float] | None = None
    ) -> Ratio | None:
        """Add one benchmark's figures (and the ratio it is judged by) to the report."""
        judged = Ratio(*ratio) if ratio is not None else None
        entry: dict[str, Any] = {"name": name, "figures": dict(figures)}
        entry["ratio"] = judged.to_dict() if judged is not None else None
        self.benchmarks = [b for b in self.benchmarks if b["name"] != name] + [entry]
        return judged

    @staticmethod
    def best_of(fn: Callable[[], object], repeats: int = 3) -> float:
        """Seconds of the fastest of `repeats` calls (time.perf_counter)."""
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - start)
        return best

    def to_dict(self) -> dict[str, Any]:
        return {
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),  # wall clock: when it ran
            "machine": machine(),
            "benchmarks": self.benchmarks,
        }


def machine() -> dict[str, Any]:
    affinity = getattr(os, "sched_getaffinity", None)
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "usable_cpus": len(affinity(0)) if affinity else os.cpu_count(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
    }


_KEY = pytest.StashKey[BenchReport]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_KEY] = BenchReport()


@pytest.fixture(scope="session")
def bench_report(pytestconfig: pytest.Config) -> BenchReport:
    return pytestconfig.stash[_KEY]


def pytest_sessionfinish(session: pytest.Session) -> None:
    report = session.config.stash.get(_KEY, None)
    if report is not None and report.benchmarks:
        REPORT_PATH.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    report = config.stash.get(_KEY, None)
    if report is None or not report.benchmarks:
        return
    tr = terminalreporter
    tr.section("benchmarks")
    for b in report.benchmarks:
        figures = ", ".join(f"{k}={_fmt(v)}" for k, v in b["figures"].items())
        tr.write_line(f"{b['name']}: {figures}")
        if b["ratio"]:
            r = b["ratio"]
            verdict = "ok" if r["ok"] else "TOO HIGH"
            tr.write_line(f"  {r['name']} = {r['value']:.3f} (limit {r['limit']}) {verdict}")
    tr.write_line(f"written to {REPORT_PATH.name}")


def _fmt(v: Figure) -> str:
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"
    return str(v)
