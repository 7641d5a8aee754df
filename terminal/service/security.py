"""SignedInOperator authentication (職員認証), roles, and the HTTP-level guards: Host allowlist
(DNS rebinding), Origin allowlist (cross-site requests), security headers.

Passwords are stored as scrypt hashes. Sessions are stateless tokens signed with the
session secret (HMAC-SHA256) so a restart keeps staff signed in; logging out revokes the
token's id in memory. The same token works as a cookie (pages) or a bearer token
(scripts, kiosk machines)."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from jpki.clock import utc_now
from terminal.service.passwords import hash_password, verify_password
from terminal.service.sessions import (
    MemorySessionStore,
    Page,
    SessionRecord,
    SessionStore,
    SignInLockout,
    new_token,
    token_digest,
)
from terminal.service.settings import OperatorAccount, Role

__all__ = ["hash_password", "verify_password"]

# One cookie per page, so that a kiosk machine's session never opens the counter and a
# counter browser that also shows the kiosk keeps two separate sign-ins. Requests say
# which page they come from with the PAGE_HEADER (the pages' scripts set it).
SESSION_COOKIES: dict[Page, str] = {"counter": "mynaterm_counter", "kiosk": "mynaterm_kiosk"}
PAGE_HEADER = "x-mynaterm-page"
# A hash computed once so that an unknown username costs as much as a wrong password.
_DUMMY_HASH: str | None = None
# last_seen is written at most this often per session (idle timeouts are minutes).
_TOUCH_EVERY = dt.timedelta(seconds=10)


@dataclass(frozen=True)
class SignedInOperator:
    """The authenticated caller of a request."""

    username: str
    roles: frozenset[Role]
    session_id: str
    page: Page = "counter"
    reader: str | None = None  # a kiosk account's own reader (by name), if bound
    # The stored key of the session (SHA-256 of its token), for signing it out.
    session_digest: str = field(default="", repr=False, compare=False)

    def has(self, role: Role) -> bool:
        if Role.ADMIN in self.roles:
            return True
        if role is Role.CLERK and Role.OFFICER in self.roles:
            return True  # an officer does everything a clerk does, and may reveal
        return role in self.roles

    def has_any(self, roles: Iterable[Role]) -> bool:
        return any(self.has(role) for role in roles)

    @property
    def kiosk_only(self) -> bool:
        return self.roles == frozenset({Role.KIOSK})


class SessionRefused(Exception):
    """No session for this request: `code` is UNAUTHENTICATED (no token, a forged or
    signed-out one) or SESSION_EXPIRED (it was good, and ran out or sat idle)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class OperatorDirectory:
    """SignedInOperator accounts, the sign-in lockout and the server-side sessions."""

    def __init__(
        self,
        accounts: list[OperatorAccount],
        secret: bytes,
        ttl_seconds: int,
        *,
        idle_seconds: dict[Page, int] | None = None,
        store: SessionStore | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self._accounts = {account.username: account for account in accounts}
        self._secret = secret  # keys nothing any more but kept for the settings contract
        self._ttl = ttl_seconds
        default_idle: dict[Page, int] = {"counter": 900, "kiosk": 0}
        self._idle: dict[Page, int] = dict(idle_seconds or default_idle)
        self.store: SessionStore = store or MemorySessionStore()
        self.clock = clock or utc_now
        self.lockout = SignInLockout(frozenset(self._accounts))

    def use_store(self, store: SessionStore) -> None:
        """Keep sessions in `store` from now on (the database, once it is open)."""
        self.store = store

    def locked_out(self, username: str, client: str = "", now: float | None = None) -> bool:
        return self.lockout.locked(username, client, now) > 0

    def add(self, account: OperatorAccount) -> None:
        self._accounts[account.username] = account
        self.lockout.add_known(account.username)

    def authenticate(
        self, username: str, password: str, client: str = ""
    ) -> OperatorAccount | None:
        global _DUMMY_HASH
        account = self._accounts.get(username)
        if account is None:
            if _DUMMY_HASH is None:
                _DUMMY_HASH = hash_password(secrets.token_urlsafe(8))
            verify_password(password, _DUMMY_HASH)
            self.lockout.failed(username, client)
            return None
        if verify_password(password, account.password_hash):
            self.lockout.succeeded(username, client)
            return account
        self.lockout.failed(username, client)
        return None

    def issue(
        self, account: OperatorAccount, page: Page = "counter", now: dt.datetime | None = None
    ) -> tuple[str, int]:
        """A new session token for the account on `page` and its lifetime in seconds."""
        now = now or self.clock()
        token = new_token()
        self.store.put(
            SessionRecord(
                token_sha256=token_digest(token),
                username=account.username,
                roles=tuple(sorted(role.value for role in account.roles)),
                page=page,
                created_at=now,
                last_seen_at=now,
                expires_at=now + dt.timedelta(seconds=self._ttl),
            )
        )
        return token, self._ttl

    def resolve(self, token: str, now: dt.datetime | None = None) -> SignedInOperator:
        """The operator a token stands for. Raises SessionRefused."""
        now = now or self.clock()
        if not token or len(token) > 256:
            raise SessionRefused("UNAUTHENTICATED", "sign in first")
        digest = token_digest(token)
        record = self.store.get(digest)
        if record is None or record.revoked_at is not None:
            raise SessionRefused("UNAUTHENTICATED", "sign in first")
        if now >= record.expires_at:
            raise SessionRefused("SESSION_EXPIRED", "the session has ended; sign in again")
        idle = self._idle.get(record.page, 0)
        if idle and now - record.last_seen_at >= dt.timedelta(seconds=idle):
            # Not revoked: every later use keeps answering SESSION_EXPIRED, so the page
            # can tell staff why, and last_seen is never moved past the idle gap.
            raise SessionRefused("SESSION_EXPIRED", "the session was idle too long; sign in again")
        account = self._accounts.get(record.username)
        try:
            roles = frozenset(Role(value) for value in record.roles)
        except ValueError:
            raise SessionRefused("UNAUTHENTICATED", "sign in first") from None
        if account is None or not roles <= set(account.roles):
            # account removed or demoted since the session began
            raise SessionRefused("UNAUTHENTICATED", "sign in first")
        if now - record.last_seen_at >= _TOUCH_EVERY:
            self.store.touch(digest, now)
        if record.page == "kiosk":
            # A kiosk page's session acts with the kiosk role alone, whatever else the
            # account may do: it opens exactly the routes a kiosk account opens.
            roles = frozenset({Role.KIOSK})
        return SignedInOperator(
            record.username,
            roles,
            digest[:32],
            page=record.page,
            reader=account.reader,
            session_digest=digest,
        )

    def revoke(self, operator: SignedInOperator) -> None:
        """Sign this session out (held in the store: it stays out after a restart)."""
        if operator.session_digest:
            self.store.revoke(operator.session_digest, self.clock())


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


# Headers the guard decides on: exactly one of each, or the request is refused.
_SINGLE_HEADERS = frozenset({"host", "origin", "content-length", "sec-fetch-site"})
# Query parameters that must never carry a secret (compared without case, "-" or "_").
SECRET_PARAMETERS = frozenset(
    {
        "pin",
        "newpin",
        "oldpin",
        "currentpin",
        "authpin",
        "signpin",
        "cardinfopin",
        "puk",
        "password",
        "passwd",
        "pwd",
        "pass",
        "passcode",
        "passphrase",
        "secret",
    }
)


def secret_in_query(query: bytes) -> str | None:
    """The first PIN- or password-like parameter name in a query string, else None."""
    if not query:
        return None
    from urllib.parse import parse_qsl

    try:
        pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    except ValueError:
        return None
    for name, _ in pairs:
        folded = name.lower().replace("-", "").replace("_", "").replace(".", "")
        if folded in SECRET_PARAMETERS or folded.endswith("pin") or "password" in folded:
            return name[:40]
    return None


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
        headers: dict[str, str] = {}
        for raw_key, raw_value in scope["headers"]:
            key = raw_key.decode("latin-1").lower()
            if key in _SINGLE_HEADERS and key in headers:
                # The guard and the app must read the same value: with two, one reads
                # the first and another the last. Refused outright.
                await _refuse(send, 400, "DUPLICATE_HEADER", f"more than one {key} header")
                return
            headers[key] = raw_value.decode("latin-1")
        host_header = headers.get("host", "")
        host, _port = split_host(host_header)
        if host not in self.allowed_hosts:
            await _refuse(send, 421, "HOST_NOT_ALLOWED", "this Host is not served here")
            return
        secret = secret_in_query(scope.get("query_string", b""))
        if secret is not None:
            # Before any routing or card work: the URL is logged and cached by browsers
            # and proxies; a PIN or password there is already half disclosed.
            await _refuse(
                send,
                400,
                "SECRET_IN_URL",
                f"the URL carries a {secret!r} parameter; PINs and passwords go in the body",
            )
            return
        method = scope["method"].upper()
        if method not in SAFE_METHODS and not self._origin_ok(headers, host_header):
            await _refuse(send, 403, "ORIGIN_NOT_ALLOWED", "cross-origin request refused")
            return
        api = scope["path"].startswith("/api/") or scope["path"] in ("/metrics", "/health")
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                extra = list(_COMMON_HEADERS)
                if api:
                    extra.append((b"cache-control", b"no-store"))
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in extra if k not in present
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            # An error no route handler took: answer here, inside this guard, so that the
            # response carries the security headers (the server's own error page, outside
            # every middleware, would not). Unmapped ones go on to be logged.
            if started:
                raise
            from terminal.service.errors import error_response, to_service_error

            mapped = to_service_error(exc)
            if mapped is not None:
                await error_response(mapped)(scope, receive, send_with_headers)
                return
            await _refuse(send, 500, "INTERNAL_ERROR", "internal error")
            raise

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
