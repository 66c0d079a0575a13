"""The demo seed's progress: `make demo` serves the cockpit first and seeds in the background.

One `SeedProgress` is shared by the seeding thread (which marks each step), the terminal line, the
front door's `GET /api/demo/status` and its gate on the data routes. A tenant's dashboards are
computed by the seed's last step (one KPI run over every demo tenant, then the score refresh), so a
data route asking for a demo tenant that is not finished answers 503 `demo_seeding` with the progress,
rather than a half-seeded page; a route naming no tenant waits for every demo tenant. What the first
step wrote (tenants, members, the demo logins) answers at once: the login page and `/api/me`.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO

SEEDING = "demo_seeding"
FAILED = "demo_seed_failed"
# Routes answering while the seed runs: they read only what the first step wrote.
OPEN_ROUTES = ("/api/me",)


@dataclass
class SeedProgress:
    """Where the seed is: `state` starting | seeding | ready | failed; `done` of `total` steps."""

    tenants: tuple[str, ...] = ()
    total: int = 0
    state: str = "starting"
    step: str = "starting the local stack"
    done: int = 0
    error: str | None = None
    run_status: str | None = None
    ready: set[str] = field(default_factory=set)
    listeners: list[Callable[[SeedProgress], None]] = field(default_factory=list)
    _started: float = field(default_factory=time.monotonic)
    _finished: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def step_of(self, label: str) -> Iterator[None]:
        """Mark one step: its label while it runs, counted done when it returns."""
        with self._lock:
            self.state, self.step = "seeding", label
        self._notify()
        yield
        with self._lock:
            self.done += 1
        self._notify()

    def finish(self, tenant_ids: list[str], run_status: str) -> None:
        """The tenants whose dashboards are computed; the seed is ready when every demo tenant is."""
        with self._lock:
            self.ready.update(tenant_ids)
            self.run_status = run_status
            if self.ready >= set(self.tenants):
                self.state, self.step, self._finished = "ready", "done", time.monotonic()
        self._notify()

    def fail(self, exc: BaseException) -> None:
        with self._lock:
            self.state, self.error, self._finished = (
                "failed",
                f"{type(exc).__name__}: {exc}",
                time.monotonic(),
            )
        self._notify()

    def seconds(self) -> float:
        return round((self._finished or time.monotonic()) - self._started, 1)

    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "state": self.state,
                "step": self.step,
                "done": self.done,
                "total": self.total,
                "seconds": self.seconds(),
                "tenants": {t: "ready" if t in self.ready else self.state for t in self.tenants},
                "run_status": self.run_status,
                "error": self.error,
            }

    def refusal(self, path: str, tenant: str | None) -> dict[str, Any] | None:
        """The 503 body for a data route whose demo tenant (all of them when it names none) is not
        seeded yet; None when the route may answer."""
        if path in OPEN_ROUTES or (tenant is not None and tenant not in self.tenants):
            return None
        waiting = [t for t in ((tenant,) if tenant else self.tenants) if t not in self.ready]
        if not waiting:
            return None
        status = self.to_dict()
        if status["state"] == "failed":
            message = f"Seeding the demo data failed ({status['error']}); see the terminal of `make demo`."
            return {"code": FAILED, "message": message, "progress": status}
        message = (
            f"The demo data for {', '.join(waiting)} is still being seeded "
            f"(step {min(status['done'] + 1, status['total'])} of {status['total']}: {status['step']}). "
            "The cockpit reloads this page when it is done; GET /api/demo/status shows the progress."
        )
        return {"code": SEEDING, "message": message, "progress": status}

    def _notify(self) -> None:
        for listener in self.listeners:
            listener(self)


class TerminalLine:
    """The progress in the terminal: one line rewritten every second on a TTY, a line per step else."""

    def __init__(self, progress: SeedProgress, out: TextIO = sys.stdout) -> None:
        self.progress, self.out = progress, out
        self.tty = out.isatty()
        self._last: tuple[str, str] | None = None
        self._lock = threading.Lock()
        progress.listeners.append(self._changed)
        if self.tty:
            threading.Thread(target=self._tick, daemon=True, name="seed-progress").start()

    def text(self) -> str:
        p = self.progress
        if p.state == "ready":
            return f"demo data ready: seeded in {p.seconds():.0f}s (final KPI run {p.run_status})"
        if p.state == "failed":
            return f"demo seed FAILED after {p.seconds():.0f}s: {p.error}"
        return f"seeding demo data [{min(p.done + 1, p.total)}/{p.total}] {p.step} ({p.seconds():.0f}s)"

    def _changed(self, progress: SeedProgress) -> None:
        key = (progress.step, progress.state)
        done = progress.state in ("ready", "failed")
        if self.tty:
            self._write("\r\033[K" + self.text() + ("\n" if done else ""))
        elif key != self._last:  # a log: one line as each step starts, and the outcome
            self._write(self.text() + "\n")
        self._last = key

    def _tick(self) -> None:
        while self.progress.state in ("starting", "seeding"):
            time.sleep(1)
            if self.progress.state == "seeding":
                self._write("\r\033[K" + self.text())

    def _write(self, text: str) -> None:
        with self._lock:
            self.out.write(text)
            self.out.flush()
