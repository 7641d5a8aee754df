"""Operator sign-in (職員認証): a session cookie for pages, the same token as a bearer
token for scripts and kiosk machines."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field, SecretStr

from terminal.service.deps import AnyOperator, Ctx
from terminal.service.errors import ServiceError
from terminal.service.security import SESSION_COOKIE

router = APIRouter(prefix="/api/session", tags=["session"])


class SignIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: SecretStr = Field(min_length=1, max_length=256)


class SessionInfo(BaseModel):
    username: str
    roles: list[str]


class SessionToken(SessionInfo):
    token: str
    expires_in: int


@router.post("", response_model=SessionToken)
def sign_in(body: SignIn, response: Response, request: Request, ctx: Ctx) -> SessionToken:
    if ctx.operators.locked_out(body.username):
        raise ServiceError(
            "TOO_MANY_ATTEMPTS", "too many failed sign-ins for this user; try again later"
        )
    account = ctx.operators.authenticate(body.username, body.password.get_secret_value())
    if account is None:
        raise ServiceError("UNAUTHENTICATED", "unknown user or wrong password")
    token, ttl = ctx.operators.issue(account)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=ttl,
        httponly=True,
        samesite="strict",
        secure=ctx.settings.tls,
        path="/",
    )
    return SessionToken(
        username=account.username,
        roles=sorted(role.value for role in account.roles),
        token=token,
        expires_in=ttl,
    )


@router.get("", response_model=SessionInfo)
def whoami(operator: AnyOperator) -> SessionInfo:
    return SessionInfo(
        username=operator.username, roles=sorted(role.value for role in operator.roles)
    )


@router.delete("", status_code=204, response_class=Response)
def sign_out(operator: AnyOperator, ctx: Ctx) -> Response:
    ctx.operators.revoke(operator)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response
