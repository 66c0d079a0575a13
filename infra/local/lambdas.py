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
        self._busy: dict[str, threading.Lock] = {}

    def arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.prefix}-{name.replace('_', '-')}"

    def name_of(self, function_name_or_arn: str) -> str:
        short = function_name_or_arn.split(":function:")[-1].split(":")[0]
        return short.removeprefix(f"{self.prefix}-").replace("-", "_")

    def module(self, name: str) -> ModuleType:
        with self._lock:
            if name not in self._modules:
                path = FUNCTIONS_DIR / name / "app.py"
                spec = importlib.util.spec_from_file_location(f"companyos_fn_{name}", path)
                if spec is None or spec.loader is None:
                    raise LookupError(f"no handler at {path}")
                mod = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(mod)
                self._modules[name] = mod
            return self._modules[name]

    def invoke_one_at_a_time(self, name: str, event: dict[str, Any]) -> Any:
        """An invocation as API Gateway makes it: like one Lambda execution environment, a handler
        module serves one request at a time. (Powertools' resolver keeps the current event on the
        module's `app`: two requests of the front door's threads in one module would read each
        other's query parameters.)"""
        with self._lock:
            busy = self._busy.setdefault(name, threading.Lock())
        with busy:
            return self.invoke(name, event)

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        ctx = LocalContext(
            function_name=f"{self.prefix}-{name}",
            invoked_function_arn=self.arn(name),
            aws_request_id=str(uuid.uuid4()),
        )
        return self.module(name).handler(event, ctx)


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
