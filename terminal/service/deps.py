"""FastAPI dependencies: the service context and the authenticated operator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from terminal.service.context import ServiceContext
from terminal.service.errors import ServiceError
from terminal.service.security import SESSION_COOKIE, Operator
from terminal.service.settings import Role


def get_context(request: Request) -> ServiceContext:
    ctx: ServiceContext = request.app.state.ctx  # set by create_app
    return ctx


Ctx = Annotated[ServiceContext, Depends(get_context)]


def current_operator(request: Request, ctx: Ctx) -> Operator:
    token = None
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        token = header[7:].strip()
    if not token:
        token = request.cookies.get(SESSION_COOKIE)
    operator = ctx.operators.resolve(token) if token else None
    if operator is None:
        raise ServiceError("UNAUTHENTICATED", "sign in first")
    request.state.operator = operator
    return operator


def require(*roles: Role) -> Callable[..., Operator]:
    """A dependency that admits operators holding any of `roles` (admin always)."""

    def check(operator: Annotated[Operator, Depends(current_operator)]) -> Operator:
        if not operator.has_any(roles):
            raise ServiceError(
                "FORBIDDEN",
                "your role does not allow this",
                needed=[role.value for role in roles],
            )
        return operator

    return check


AnyOperator = Annotated[Operator, Depends(current_operator)]
Clerk = Annotated[Operator, Depends(require(Role.CLERK))]
Officer = Annotated[Operator, Depends(require(Role.OFFICER))]
KioskOrClerk = Annotated[Operator, Depends(require(Role.KIOSK, Role.CLERK))]
Admin = Annotated[Operator, Depends(require(Role.ADMIN))]
Auditor = Annotated[Operator, Depends(require(Role.ADMIN, Role.OFFICER))]
