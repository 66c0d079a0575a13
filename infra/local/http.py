"""The local front door: /api/* as API Gateway proxy events to the real handlers, web/ as static files.

While `make demo` seeds in the background (`demo_status.SeedProgress`): `GET /api/demo/status` tells
where it is, the data routes of a tenant not seeded yet answer 503 `demo_seeding`, and the pages carry
a progress banner (`static/seed-banner.js`)."""

from __future__ import annotations

import base64
import gzip
import json
import logging
import mimetypes
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from companyos import topology
from companyos.api import accepts_gzip, compressible
from companyos.domain.errors import DomainError, MalformedBody, PayloadTooLarge

from infra.local.auth import LocalIdP
from infra.local.demo_status import SeedProgress
from infra.local.lambdas import ROOT
from infra.local.stack import LocalStack

WEB = ROOT / "web"
# Public routes (no authorizer), exactly as in the API Gateway definition (topology.public_routes).
PUBLIC_PREFIXES = ("/api/ingest/",)
STATIC = Path(__file__).resolve().parent / "static"
BANNER = "/_local/seed-banner.js"  # the seed progress banner, in the pages served while seeding
# API Gateway REST's payload limit: a larger declared body is refused before a byte of it is read.
MAX_BODY_BYTES = 10 * 1024 * 1024
# A client that stops sending (a declared length it never delivers, an idle keep-alive) frees its
# thread after this long instead of holding it forever.
SOCKET_TIMEOUT_S = 30.0
# CloudFront compresses files of 1,000 to 10,000,000 bytes at the edge (the site's behaviour has
# compress + a gzip/Brotli cache policy); the API's handlers compress from COMPRESS_MIN_BYTES.
CLOUDFRONT_COMPRESS_MIN_BYTES = 1000
logger = logging.getLogger("companyos.local.http")


def proxy_event(
    method: str, path: str, query: str, headers: dict[str, str], body: bytes, claims: dict[str, str] | None
) -> dict[str, Any]:
    """An API Gateway REST proxy event, with the Cognito authorizer's claims where authorized."""
    # blank values kept, as API Gateway passes them (`?days=` is days="", refused by the resolver)
    multi = parse_qs(query, keep_blank_values=True)
    qs = {k: v[-1] for k, v in multi.items()}
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
        "multiValueQueryStringParameters": multi or None,
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
    timeout = SOCKET_TIMEOUT_S  # StreamRequestHandler.setup() sets it on the connection's socket
    stack: LocalStack
    idp: LocalIdP
    progress: SeedProgress | None = None  # set when the demo seeds in the background

    def log_message(self, fmt: str, *args: Any) -> None:  # quiet; errors still surface as responses
        pass

    def _send(
        self,
        status: int,
        body: bytes,
        ctype: str = "application/json",
        headers: dict[str, str] | None = None,
        minimum: int = topology.COMPRESS_MIN_BYTES,
    ) -> None:
        """The answer, gzip-compressed as AWS would send it when the client accepts gzip and the body
        is text-like and at least `minimum` bytes (an API answer the handler compressed already, with
        its `Content-Encoding`, passes as it is)."""
        headers = dict(headers or {})
        encoded = any(k.lower() == "content-encoding" for k in headers)
        if not encoded and compressible(ctype) and len(body) >= minimum:
            headers.setdefault("Vary", "Accept-Encoding")
            if accepts_gzip(self.headers.get("Accept-Encoding")):
                body = gzip.compress(body, 6)
                headers["Content-Encoding"] = "gzip"
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
        """The request body, refused whole when its declared length is unreadable or too large
        (the connection is then closed: the unread bytes cannot be told from the next request)."""
        declared = (self.headers.get("Content-Length") or "0").strip()
        if not declared.isdigit():
            self.close_connection = True
            raise MalformedBody(
                f"Content-Length must be a number of bytes, not {declared[:40]!r}",
                code="malformed_content_length",
            )
        length = int(declared)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            raise PayloadTooLarge(f"the body is {length} bytes; the limit is {MAX_BODY_BYTES}")
        body = self.rfile.read(length) if length else b""
        if len(body) < length:  # the client closed before sending what it declared
            self.close_connection = True
            raise MalformedBody(
                f"the body ended after {len(body)} of its {length} declared bytes", code="truncated_body"
            )
        return body

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_PUT(self) -> None:
        self._route("PUT")

    def do_DELETE(self) -> None:
        self._route("DELETE")

    def do_PATCH(self) -> None:
        self._route("PATCH")

    def _route(self, method: str) -> None:
        url = urlsplit(self.path)
        try:
            if url.path.startswith("/api/auth/"):
                self._auth(method, url.path)
            elif url.path == "/api/demo/status" and method == "GET":
                self._demo_status()
            elif url.path.startswith("/api/"):
                self._api(method, url.path, url.query)
            elif method == "GET":
                self._static(url.path)
            else:
                self._json(405, {"code": "method_not_allowed", "message": f"{method} {url.path}"})
        except DomainError as exc:
            self._json(exc.status, exc.to_body())
        except TimeoutError:  # the declared body did not arrive in time
            self.close_connection = True
            self._json(408, {"code": "request_timeout", "message": "the request body did not arrive in time"})
        except Exception:  # a function that raised: API Gateway answers 502 for it, so does the demo
            logger.exception("%s %s raised", method, url.path)
            self._json(502, {"code": "function_error", "message": "Internal server error"})

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

    def _demo_status(self) -> None:
        if self.progress is None:
            self._json(404, {"code": "route_not_found", "message": "this server does not seed a demo"})
        else:
            self._json(200, self.progress.to_dict())

    def _api(self, method: str, path: str, query: str) -> None:
        body = self._body()
        headers = {k: v for k, v in self.headers.items()}
        public = path.startswith(PUBLIC_PREFIXES)
        claims = None if public else self.idp.claims(self.headers.get("Authorization"))
        if claims is not None and self.progress is not None:
            tenants = parse_qs(query).get("tenant")
            refusal = self.progress.refusal(path, tenants[-1] if tenants else None)
            if refusal is not None:
                self._send(503, json.dumps(refusal).encode(), headers={"Retry-After": "5"})
                return
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
        if path == BANNER:
            banner = (STATIC / "seed-banner.js").read_bytes()
            self._send(200, banner, "text/javascript", minimum=CLOUDFRONT_COMPRESS_MIN_BYTES)
            return
        rel = "index.html" if path in ("", "/") else path.lstrip("/")
        target = (WEB / rel).resolve()
        if not str(target).startswith(str(WEB.resolve())) or not target.is_file():
            self._json(404, {"code": "not_found", "message": f"no file {path}"})
            return
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        body = target.read_bytes()
        if ctype == "text/html" and self.progress is not None and self.progress.state != "ready":
            body = body.replace(b"</head>", f'<script src="{BANNER}" defer></script></head>'.encode(), 1)
        self._send(200, body, ctype, minimum=CLOUDFRONT_COMPRESS_MIN_BYTES)


def make_handler(
    stack: LocalStack, idp: LocalIdP, progress: SeedProgress | None = None
) -> type[BaseHTTPRequestHandler]:
    bound = {"stack": stack, "idp": idp, "progress": progress}
    return type("BoundCockpitHandler", (CockpitHandler,), bound)


class FrontDoorServer(ThreadingHTTPServer):
    """A thread per request; the listen backlog is API Gateway-sized rather than socketserver's 5: with
    5, the sixth simultaneous connection's SYN is dropped and its client waits for the kernel's
    retransmit (1 s, 3 s, 7 s, ...), which under 20 concurrent writers is most of their latency."""

    request_queue_size = 256


def serve(
    stack: LocalStack, idp: LocalIdP, port: int, progress: SeedProgress | None = None
) -> ThreadingHTTPServer:
    httpd = FrontDoorServer(("127.0.0.1", port), make_handler(stack, idp, progress))
    httpd.daemon_threads = True
    return httpd


def web_root() -> Path:
    return WEB
