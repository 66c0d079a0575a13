"""Run the real Lambda handlers in-process: moto's Lambda invoke is patched to dispatch to them."""

from __future__ import annotations

import importlib.util
import json
import threading
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from moto.awslambda_simple.models import LambdaSimpleBackend

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = ROOT / "functions"
# Execution environments per API handler at most (the front door's concurrent requests per function)
MAX_ENVIRONMENTS = 32


@dataclass
class LocalContext:
    """The LambdaContext attributes Powertools reads."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = ""
    log_group_name: str = ""
    log_stream_name: str = ""

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


class HandlerRegistry:
    """Handlers loaded by file path under unique module names (functions/<name>/app.py)."""

    def __init__(self, region: str, account: str, prefix: str) -> None:
        self.region, self.account, self.prefix = region, account, prefix
        self._modules: dict[str, ModuleType] = {}
        self._lock = threading.Lock()
        self._idle: dict[str, list[ModuleType]] = {}  # the front door's free execution environments
        self._environments: dict[str, int] = {}  # how many each handler has (busy or idle)
        self._freed = threading.Condition(self._lock)
        self._cold_starts = threading.Lock()

    def arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.prefix}-{name.replace('_', '-')}"

    def name_of(self, function_name_or_arn: str) -> str:
        short = function_name_or_arn.split(":function:")[-1].split(":")[0]
        return short.removeprefix(f"{self.prefix}-").replace("-", "_")

    def module(self, name: str) -> ModuleType:
        with self._lock:
            if name not in self._modules:
                with self._cold_starts:
                    self._modules[name] = _load(name, f"companyos_fn_{name}")
            return self._modules[name]

    def invoke_concurrently(self, name: str, event: dict[str, Any]) -> Any:
        """An invocation as API Gateway makes it: Lambda serves concurrent requests from separate
        execution environments, each serving one request at a time. Here an environment is a copy
        of the handler module (its own Powertools resolver, which keeps the current event on the
        module's `app`: two requests in one module would read each other's query parameters). A
        request takes an idle copy, or loads a new one (a cold start) while fewer than
        MAX_ENVIRONMENTS exist, or waits for one to be freed (Lambda's reserved concurrency)."""
        env = self._checkout(name)
        try:
            return env.handler(event, self._context(name))
        finally:
            with self._freed:
                self._idle[name].append(env)
                self._freed.notify()

    def _checkout(self, name: str) -> ModuleType:
        with self._freed:
            idle = self._idle.setdefault(name, [])
            while not idle and self._environments.get(name, 0) >= MAX_ENVIRONMENTS:
                self._freed.wait()
            if idle:
                return idle.pop()
            self._environments[name] = number = self._environments.get(name, 0) + 1
        try:  # a cold start, outside the lock: the other environments keep serving
            with self._cold_starts:  # one at a time: concurrent first imports can deadlock
                return _load(name, f"companyos_fn_{name}_env{number}")
        except BaseException:
            with self._freed:
                self._environments[name] -= 1
                self._freed.notify()
            raise

    def _context(self, name: str) -> LocalContext:
        return LocalContext(
            function_name=f"{self.prefix}-{name}",
            invoked_function_arn=self.arn(name),
            aws_request_id=str(uuid.uuid4()),
        )

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        return self.module(name).handler(event, self._context(name))


def _load(name: str, module_name: str) -> ModuleType:
    """functions/<name>/app.py as a fresh module (its own module-level state: resolver, caches)."""
    path = FUNCTIONS_DIR / name / "app.py"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise LookupError(f"no handler at {path}")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def patch_moto_lambda(registry: HandlerRegistry) -> None:
    """Make moto's Lambda invoke (used by its Step Functions executor) call the real handlers.

    An exception becomes a function error with errorType = the exception class name, so the state
    machine's Retry/Catch see the same error names as in AWS."""

    def invoke(
        self: Any,
        function_name: str,
        qualifier: Any,
        body: Any,
        headers: Any,
        response_headers: dict[str, str],
    ) -> bytes:
        event = json.loads(body or "{}")
        try:
            result = registry.invoke(registry.name_of(function_name), event)
        except Exception as exc:
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps(
                {
                    "errorType": type(exc).__name__,
                    "errorMessage": str(exc),
                    "stackTrace": traceback.format_exc().splitlines()[-5:],
                }
            ).encode()
        return json.dumps(result).encode()

    LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign]
