"""The local counter/kiosk service (FastAPI): readers, card work, login, issuance."""

from __future__ import annotations

from terminal.service.app import create_app
from terminal.service.settings import Settings, load_settings

__all__ = ["Settings", "create_app", "load_settings"]
