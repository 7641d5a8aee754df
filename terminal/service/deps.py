"""FastAPI dependencies: the service context and the authenticated operator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from terminal.service.context import ServiceContext
from terminal.service.errors import ServiceError
from terminal.service.security import PAGE_HEADER, SESSION_COOKIES, SessionRefused, SignedInOperator
from terminal.service.settings import Role


def get_context(request: Request) -> ServiceContext:
    ctx: ServiceContext = request.app.state.ctx  # set by create_app
    return ctx


Ctx = Annotated[ServiceContext, Depends(get_context)]


def session_token(request: Request) -> str | None:
    """The bearer token, else the cookie of the page the request says it comes from
    (X-Mynaterm-Page), else the counter's cookie, else the kiosk's."""
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer " and header[7:].strip():
        return header[7:].strip()
    page = request.headers.get(PAGE_HEADER, "").strip().lower()
    if page in SESSION_COOKIES:
        return request.cookies.get(SESSION_COOKIES[page])
    for name in SESSION_COOKIES.values():
        token = request.cookies.get(name)
        if token:
            return token
    return None


def current_operator(request: Request, ctx: Ctx) -> SignedInOperator:
    token = session_token(request)
    if not token:
        raise ServiceError("UNAUTHENTICATED", "sign in first")
    try:
        operator = ctx.operators.resolve(token)
    except SessionRefused as exc:
        raise ServiceError(exc.code, exc.message) from None
    reader_id = request.path_params.get("reader_id")
    if (
        operator.kiosk_only
        and operator.reader is not None
        and reader_id is not None
        and ctx.readers.get(str(reader_id)).name != operator.reader
    ):
        raise ServiceError("FORBIDDEN", "a kiosk account uses only its own reader")
    request.state.operator = operator
    return operator


def require(*roles: Role) -> Callable[..., SignedInOperator]:
    """A dependency that admits operators holding any of `roles` (admin always)."""

    def check(operator: Annotated[SignedInOperator, Depends(current_operator)]) -> SignedInOperator:
        if not operator.has_any(roles):
            raise ServiceError(
                "FORBIDDEN",
                "your role does not allow this",
                needed=[role.value for role in roles],
            )
        return operator

    return check


AnyOperator = Annotated[SignedInOperator, Depends(current_operator)]
Clerk = Annotated[SignedInOperator, Depends(require(Role.CLERK))]
Officer = Annotated[SignedInOperator, Depends(require(Role.OFFICER))]
KioskOrClerk = Annotated[SignedInOperator, Depends(require(Role.KIOSK, Role.CLERK))]
Admin = Annotated[SignedInOperator, Depends(require(Role.ADMIN))]
Auditor = Annotated[SignedInOperator, Depends(require(Role.ADMIN, Role.OFFICER))]
