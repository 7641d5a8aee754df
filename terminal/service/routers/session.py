"""Operator sign-in (職員認証): one session cookie per page (counter, kiosk), the same
token as a bearer token for scripts and kiosk machines.

A kiosk-only account signs in only on the kiosk page, and its session opens only the
kiosk routes (it acts with the kiosk role alone). An ended session answers
SESSION_EXPIRED (the page shows a staff-facing message), never a password error."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field, SecretStr

from terminal.service.deps import AnyOperator, Ctx
from terminal.service.errors import ServiceError
from terminal.service.security import SESSION_COOKIES
from terminal.service.sessions import Page

router = APIRouter(prefix="/api/session", tags=["session"])


class SignIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: SecretStr = Field(min_length=1, max_length=256)
    page: Page | None = Field(
        default=None,
        description="The page this session is for; default: kiosk for a kiosk-only "
        "account, else counter",
    )


class SessionInfo(BaseModel):
    username: str
    roles: list[str]
    page: Page
    reader: str | None = None


class SessionToken(SessionInfo):
    token: str
    expires_in: int
    cookie: str


def _client(request: Request) -> str:
    return request.client.host if request.client is not None else ""


@router.post("", response_model=SessionToken)
def sign_in(body: SignIn, response: Response, request: Request, ctx: Ctx) -> SessionToken:
    client = _client(request)
    wait = ctx.operators.lockout.locked(body.username, client)
    if wait > 0:
        raise ServiceError(
            "TOO_MANY_ATTEMPTS",
            "too many failed sign-ins for this user; try again later",
            retry_after=int(wait) + 1,
        )
    account = ctx.operators.authenticate(body.username, body.password.get_secret_value(), client)
    if account is None:
        raise ServiceError("UNAUTHENTICATED", "unknown user or wrong password")
    kiosk_only = {role.value for role in account.roles} == {"kiosk"}
    page: Page = body.page or ("kiosk" if kiosk_only else "counter")
    if page == "counter" and kiosk_only:
        raise ServiceError("FORBIDDEN", "a kiosk account signs in on the kiosk page only")
    token, ttl = ctx.operators.issue(account, page)
    cookie = SESSION_COOKIES[page]
    response.set_cookie(
        cookie,
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
        page=page,
        reader=account.reader,
        token=token,
        expires_in=ttl,
        cookie=cookie,
    )


@router.get("", response_model=SessionInfo)
def whoami(operator: AnyOperator) -> SessionInfo:
    return SessionInfo(
        username=operator.username,
        roles=sorted(role.value for role in operator.roles),
        page=operator.page,
        reader=operator.reader,
    )


@router.delete("", status_code=204, response_class=Response)
def sign_out(operator: AnyOperator, ctx: Ctx) -> Response:
    """Ends this session for good (also after a restart) and clears its page's cookie."""
    ctx.operators.revoke(operator)
    response = Response(status_code=204)
    response.delete_cookie(
        SESSION_COOKIES[operator.page], path="/", httponly=True, samesite="strict"
    )
    return response
