"""The counter and kiosk pages: static HTML/CSS/JS, no build step, no inline script
(the CSP forbids it)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

router = APIRouter(include_in_schema=False)


@router.get("/")
def index() -> RedirectResponse:
    return RedirectResponse("/counter", status_code=303)


@router.get("/counter")
def counter_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "counter.html", media_type="text/html; charset=utf-8")


@router.get("/kiosk")
def kiosk_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "kiosk.html", media_type="text/html; charset=utf-8")


static_files = StaticFiles(directory=STATIC_DIR)
