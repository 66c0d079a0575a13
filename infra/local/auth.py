"""Local demo login: JWTs signed with a per-process key, claims shaped like Cognito ID tokens."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from companyos.domain.auth import MEMBERSHIPS_CLAIM
from companyos.domain.errors import Unauthenticated

ISSUER = "companyos-local"


class LocalIdP:
    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)
        self.users: dict[str, dict[str, Any]] = {}  # username -> {"display", "memberships"}

    def add_user(self, username: str, display: str, memberships: dict[str, str]) -> None:
        self.users[username] = {"username": username, "display": display, "memberships": memberships}

    def login(self, username: str) -> dict[str, str]:
        user = self.users.get(username)
        if user is None:
            raise Unauthenticated(f"unknown demo user '{username}'", code="unknown_user")
        exp = datetime.now(UTC) + timedelta(hours=8)
        claims = {
            "sub": f"local-{username}",
            "email": username,
            "iss": ISSUER,
            "token_use": "id",
            "exp": exp,
            MEMBERSHIPS_CLAIM: json.dumps(user["memberships"]),
        }
        return {"token": jwt.encode(claims, self._key, algorithm="HS256"), "expires_at": exp.isoformat()}

    def claims(self, authorization: str | None) -> dict[str, str]:
        """Verify a bearer token; the claims as API Gateway's Cognito authorizer passes them (strings)."""
        if not authorization or not authorization.startswith("Bearer "):
            raise Unauthenticated("missing bearer token")
        try:
            raw = jwt.decode(authorization[7:], self._key, algorithms=["HS256"], issuer=ISSUER)
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("the token has expired: sign in again", code="token_expired") from exc
        except jwt.PyJWTError as exc:  # the library's own words stay in the log, not in the answer
            raise Unauthenticated("the token is not valid", code="invalid_token") from exc
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}
