"""The local front door: /api/* as API Gateway proxy events to the real handlers, web/ as static files."""

from __future__ import annotations

import base64
import json
import mimetypes
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from companyos import topology
from companyos.domain.errors import DomainError

from infra.local.auth import LocalIdP
from infra.local.lambdas import ROOT
from infra.local.stack import LocalStack

WEB = ROOT / "web"
# Public routes (no authorizer), exactly as in the API Gateway definition (topology.public_routes).
PUBLIC_PREFIXES = ("/api/ingest/",)


def proxy_event(
    method: str, path: str, query: str, headers: dict[str, str], body: bytes, claims: dict[str, str] | None
) -> dict[str, Any]:
    """An API Gateway REST proxy event, with the Cognito authorizer's claims where authorized."""
    qs = {k: v[-1] for k, v in parse_qs(query).items()}
    try:
        text, b64 = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, b64 = base64.b64encode(body).decode(), True
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": qs or None,
        "multiValueQueryStringParameters": {k: v for k, v in parse_qs(query).items()} or None,
        "pathParameters": {"proxy": path.removeprefix("/api/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": path,
            "stage": "local",
            "requestId": str(uuid.uuid4()),
            "authorizer": {"claims": claims} if claims else None,
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": text if body else None,
        "isBase64Encoded": b64,
    }


class CockpitHandler(BaseHTTPRequestHandler):
    server_version = "CompanyOSLocal/1"
    stack: LocalStack
    idp: LocalIdP

    def log_message(self, fmt: str, *args: Any) -> None:  # quiet; errors still surface as responses
        pass

    def _send(
        self, status: int, body: bytes, ctype: str = "application/json", headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, doc: Any) -> None:
        self._send(status, json.dumps(doc).encode())

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_PUT(self) -> None:
        self._route("PUT")

    def do_DELETE(self) -> None:
        self._route("DELETE")

    def _route(self, method: str) -> None:
        url = urlsplit(self.path)
        try:
            if url.path.startswith("/api/auth/"):
                self._auth(method, url.path)
            elif url.path.startswith("/api/"):
                self._api(method, url.path, url.query)
            elif method == "GET":
                self._static(url.path)
            else:
                self._json(405, {"code": "method_not_allowed", "message": f"{method} {url.path}"})
        except DomainError as exc:
            self._json(exc.status, exc.to_body())

    def _auth(self, method: str, path: str) -> None:
        if method == "GET" and path == "/api/auth/demo-users":
            self._json(200, {"users": list(self.idp.users.values())})
        elif method == "POST" and path == "/api/auth/local-login":
            try:
                username = json.loads(self._body() or b"{}").get("username", "")
            except json.JSONDecodeError:
                self._json(400, {"code": "malformed_body", "message": "body must be JSON"})
                return
            self._json(200, self.idp.login(username))
        else:
            self._json(404, {"code": "route_not_found", "message": "no such auth route"})

    def _api(self, method: str, path: str, query: str) -> None:
        body = self._body()
        headers = {k: v for k, v in self.headers.items()}
        public = path.startswith(PUBLIC_PREFIXES)
        claims = None if public else self.idp.claims(self.headers.get("Authorization"))
        function = "ingest" if public else topology.route_owner(path)
        result = self.stack.invoke_api(function, proxy_event(method, path, query, headers, body, claims))
        payload = result.get("body") or ""
        raw = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode()
        # API Gateway REST merges `headers` and `multiValueHeaders` (Powertools answers in the latter)
        merged = {k: ", ".join(v) for k, v in (result.get("multiValueHeaders") or {}).items()}
        merged.update(result.get("headers") or {})
        extra = {k: v for k, v in merged.items() if k.lower() != "content-type"}
        ctype = merged.get("Content-Type", "application/json")
        self._send(int(result["statusCode"]), raw, ctype, extra)

    def _static(self, path: str) -> None:
        if path == "/config.json":
            self._json(200, {"apiBase": "/api", "environment": "local", "auth": {"mode": "local"}})
            return
        rel = "index.html" if path in ("", "/") else path.lstrip("/")
        target = (WEB / rel).resolve()
        if not str(target).startswith(str(WEB.resolve())) or not target.is_file():
            self._json(404, {"code": "not_found", "message": f"no file {path}"})
            return
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        self._send(200, target.read_bytes(), ctype)


def make_handler(stack: LocalStack, idp: LocalIdP) -> type[BaseHTTPRequestHandler]:
    return type("BoundCockpitHandler", (CockpitHandler,), {"stack": stack, "idp": idp})


def serve(stack: LocalStack, idp: LocalIdP, port: int) -> ThreadingHTTPServer:
    httpd = ThreadingHTTPServer(("127.0.0.1", port), make_handler(stack, idp))
    httpd.daemon_threads = True
    return httpd


def web_root() -> Path:
    return WEB
