"""Request body caps per route, enforced before anything reads or parses a body.

Without a cap an anonymous client could send 100 MB to any route and have it read and
parsed as JSON before authentication. This ASGI middleware refuses a declared
Content-Length over the route's cap at once (413, nothing read), and counts the bytes of
a body that arrives without one (chunked), refusing as soon as they pass the cap. A body
within the cap is handed to the app as received."""

from __future__ import annotations

import re
from collections.abc import Sequence

from terminal.service.security import ASGIApp, Message, Receive, Scope, Send, _refuse

# The documents routes take base64 content of up to 1 MiB (signing.MAX_DOCUMENT); the
# verification takes a document and a signature. Everything else takes small JSON.
DEFAULT_LIMITS: tuple[tuple[str, int], ...] = (
    (r"^/api/readers/[^/]+/sign$", 2 * 1024 * 1024),
    (r"^/api/verify$", 4 * 1024 * 1024),
    (r"^/api/certificates/validate$", 64 * 1024),
)
DEFAULT_CAP = 16 * 1024


class BodyLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        limits: Sequence[tuple[str, int]] = DEFAULT_LIMITS,
        default: int = DEFAULT_CAP,
    ) -> None:
        self.app = app
        self.limits = [(re.compile(pattern), cap) for pattern, cap in limits]
        self.default = default

    def cap_for(self, path: str) -> int:
        return next((cap for pattern, cap in self.limits if pattern.match(path)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.cap_for(scope["path"])
        declared = [v for k, v in scope["headers"] if k.lower() == b"content-length"]
        if declared:
            try:
                length = int(declared[0])
            except ValueError:
                length = -1
            if length < 0:
                await _refuse(send, 400, "VALIDATION_ERROR", "Content-Length is not a number")
                return
            if length > cap:
                await _refuse(send, 413, "PAYLOAD_TOO_LARGE", f"the body exceeds {cap} bytes")
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                # The client went away before sending its body: nothing to serve.
                return
            body = message.get("body", b"")
            size += len(body)
            if size > cap:
                await _refuse(send, 413, "PAYLOAD_TOO_LARGE", f"the body exceeds {cap} bytes")
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()  # later calls wait for the disconnect, as before

        await self.app(scope, replay, send)
