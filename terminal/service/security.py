"""Operator authentication (職員認証), roles, and the HTTP-level guards: Host allowlist
(DNS rebinding), Origin allowlist (cross-site requests), security headers.

Passwords are stored as scrypt hashes. Sessions are stateless tokens signed with the
session secret (HMAC-SHA256) so a restart keeps staff signed in; logging out revokes the
token's id in memory. The same token works as a cookie (pages) or a bearer token
(scripts, kiosk machines)."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any

from terminal.service.passwords import b64url, hash_password, unb64url, verify_password
from terminal.service.settings import OperatorAccount, Role

SESSION_COOKIE = "mynaterm_session"
# A hash computed once so that an unknown username costs as much as a wrong password.
_DUMMY_HASH: str | None = None


@dataclass(frozen=True)
class Operator:
    """The authenticated caller of a request."""

    username: str
    roles: frozenset[Role]
    session_id: str

    def has(self, role: Role) -> bool:
        if Role.ADMIN in self.roles:
            return True
        if role is Role.CLERK and Role.OFFICER in self.roles:
            return True  # an officer does everything a clerk does, and may reveal
        return role in self.roles

    def has_any(self, roles: Iterable[Role]) -> bool:
        return any(self.has(role) for role in roles)


class OperatorDirectory:
    """Operator accounts and signed session tokens."""

    # Wrong passwords allowed per user name within the window before sign-in is refused
    # for the rest of the window (slows down guessing at an unattended kiosk).
    MAX_FAILURES = 5
    FAILURE_WINDOW = 300.0

    def __init__(self, accounts: list[OperatorAccount], secret: bytes, ttl_seconds: int) -> None:
        self._accounts = {account.username: account for account in accounts}
        self._secret = secret
        self._ttl = ttl_seconds
        self._revoked: set[str] = set()
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def locked_out(self, username: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            recent = [t for t in self._failures.get(username, []) if now - t < self.FAILURE_WINDOW]
            self._failures[username] = recent
            return len(recent) >= self.MAX_FAILURES

    def _failed(self, username: str) -> None:
        with self._lock:
            self._failures.setdefault(username, []).append(time.monotonic())
            if len(self._failures) > 10000:  # bounded memory under a spray of names
                self._failures.clear()

    def add(self, account: OperatorAccount) -> None:
        self._accounts[account.username] = account

    def authenticate(self, username: str, password: str) -> OperatorAccount | None:
        global _DUMMY_HASH
        account = self._accounts.get(username)
        if account is None:
            if _DUMMY_HASH is None:
                _DUMMY_HASH = hash_password(secrets.token_urlsafe(8))
            verify_password(password, _DUMMY_HASH)
            self._failed(username)
            return None
        if verify_password(password, account.password_hash):
            with self._lock:
                self._failures.pop(username, None)
            return account
        self._failed(username)
        return None

    def issue(self, account: OperatorAccount, now: float | None = None) -> tuple[str, int]:
        """A session token for the account and its lifetime in seconds."""
        now = time.time() if now is None else now
        claims = {
            "sub": account.username,
            "roles": sorted(role.value for role in account.roles),
            "exp": int(now) + self._ttl,
            "sid": secrets.token_urlsafe(12),
        }
        body = b64url(json.dumps(claims, separators=(",", ":")).encode("utf-8"))
        return f"{body}.{self._sign(body)}", self._ttl

    def resolve(self, token: str, now: float | None = None) -> Operator | None:
        """The operator a token stands for, or None if forged, expired or revoked."""
        now = time.time() if now is None else now
        body, _, signature = token.partition(".")
        if not body or not signature or not hmac.compare_digest(signature, self._sign(body)):
            return None
        try:
            claims = json.loads(unb64url(body))
            username = str(claims["sub"])
            expires = int(claims["exp"])
            session_id = str(claims["sid"])
            roles = frozenset(Role(value) for value in claims["roles"])
        except (ValueError, KeyError, TypeError):
            return None
        if expires < now or session_id in self._revoked:
            return None
        account = self._accounts.get(username)
        if account is None or not roles <= set(account.roles):
            return None  # account removed or demoted since the token was issued
        return Operator(username, roles, session_id)

    def revoke(self, operator: Operator) -> None:
        with self._lock:
            self._revoked.add(operator.session_id)

    def _sign(self, body: str) -> str:
        return b64url(hmac.new(self._secret, body.encode("ascii"), hashlib.sha256).digest())


# ---------------------------------------------------------------------------------------
# HTTP guards (pure ASGI so that streaming responses such as SSE pass untouched)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

_COMMON_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode("ascii")),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


def split_host(value: str) -> tuple[str, str | None]:
    """('example', '8700') from 'example:8700'; handles '[::1]:8700'."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        if end == -1:
            return value, None
        host, rest = value[: end + 1], value[end + 1 :]
        return host, rest[1:] if rest.startswith(":") else None
    host, sep, port = value.rpartition(":")
    if sep and port.isdigit() and host and ":" not in host:
        return host, port
    return value, None


class GuardMiddleware:
    """Refuses foreign Host headers (421) and foreign Origins on state-changing requests
    (403), and adds security headers to every response (no-store on the API)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        allowed_hosts: frozenset[str],
        allowed_origins: frozenset[str] | None,
        tls: bool,
    ) -> None:
        self.app = app
        self.allowed_hosts = allowed_hosts
        # None: same-origin only (Origin must equal the request's own scheme://Host).
        self.allowed_origins = allowed_origins
        self.scheme = "https" if tls else "http"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host_header = headers.get("host", "")
        host, _port = split_host(host_header)
        if host not in self.allowed_hosts:
            await _refuse(send, 421, "HOST_NOT_ALLOWED", "this Host is not served here")
            return
        method = scope["method"].upper()
        if method not in SAFE_METHODS and not self._origin_ok(headers, host_header):
            await _refuse(send, 403, "ORIGIN_NOT_ALLOWED", "cross-origin request refused")
            return
        api = scope["path"].startswith("/api/") or scope["path"] in ("/metrics", "/health")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = list(_COMMON_HEADERS)
                if api:
                    extra.append((b"cache-control", b"no-store"))
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in extra if k not in present
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _origin_ok(self, headers: dict[str, str], host_header: str) -> bool:
        origin = headers.get("origin")
        if origin is None:
            # Browsers always send Origin on cross-site POSTs; without one, trust only
            # what the fetch metadata says, when present.
            return headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")
        origin = origin.rstrip("/").lower()
        if self.allowed_origins is not None:
            return origin in self.allowed_origins
        return origin == f"{self.scheme}://{host_header.lower()}"


async def _refuse(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode("ascii")),
                (b"cache-control", b"no-store"),
                *_COMMON_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
