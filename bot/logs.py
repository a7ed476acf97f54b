"""Logging set-up: one line per event, JSON when LOG_FORMAT=json, never a secret.

Extra fields passed with `log.info("...", extra={...})` are kept in the JSON line. Anything
that looks like a Slack token is masked, whatever path it took into the message.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
from typing import Any

_TOKEN = re.compile(r"\b(xox[abceposr]|xapp)-[A-Za-z0-9-]+")
# The password in a URL such as postgresql://user:password@host/db.
_URL_PASSWORD = re.compile(r"(\w+://[^:/@\s]+:)[^@\s]+@")
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}
_SECRET_KEYS = ("token", "secret", "password", "authorization")


def mask(text: str) -> str:
    """`text` with Slack tokens and URL passwords replaced by ***."""
    text = _URL_PASSWORD.sub(lambda m: m.group(1) + "***@", text)
    return _TOKEN.sub(lambda m: m.group(1) + "-***", text)


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    extras = {}
    for key, value in record.__dict__.items():
        if key in _STANDARD or key.startswith("_"):
            continue
        if any(secret in key.lower() for secret in _SECRET_KEYS):
            value = "***"
        extras[key] = value
    return extras


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": mask(record.getMessage()),
        }
        for key, value in _extras(record).items():
            line[key] = mask(value) if isinstance(value, str) else value
        if record.exc_info:
            line["error"] = mask(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extras = _extras(record)
        if extras:
            text += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        return mask(text)


def configure_logging(fmt: str = "text", level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
