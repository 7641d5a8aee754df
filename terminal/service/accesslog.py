"""The access log without query strings.

uvicorn's access log line holds the request's full path, query string included; a
client that put a PIN or password in the URL (which the service refuses with
SECRET_IN_URL) would still have it written to the log. This filter cuts every path in
the access log at the "?" before any handler formats it."""

from __future__ import annotations

import logging

ACCESS_LOGGER = "uvicorn.access"


class StripQueryFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple):
            record.args = tuple(_strip(a) for a in args)
        record.msg = _strip(record.msg) if isinstance(record.msg, str) else record.msg
        return True


def _strip(value: object) -> object:
    if isinstance(value, str) and "?" in value:
        return value.split("?", 1)[0]
    return value


def install_access_log_filter(logger_name: str = ACCESS_LOGGER) -> None:
    """Idempotent: the filter is added once per logger."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, StripQueryFilter) for f in logger.filters):
        logger.addFilter(StripQueryFilter())
