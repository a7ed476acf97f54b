"""Logging set-up: one line per event, JSON when LOG_FORMAT=json, never a secret.

Extra fields passed with `log.info("...", extra={...})` are kept in the JSON line. Anything
that looks like a Slack token is masked, whatever path it took into the message. Masking is
linear in the text (log lines can hold what strangers sent), and in the text format line
breaks and other control characters are escaped, so no value can forge a log line.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
from typing import Any

# Both patterns are linear in the text: each starts at a literal or at the start of a word,
# and what follows is either bounded or matched once, so no long run of letters is rescanned
# from every position (`\w+://` was: quadratic, seconds for a 50 KB body).
_TOKEN = re.compile(r"\b(xox[abceposr]|xapp)-[A-Za-z0-9-]+")
# The password in a URL such as postgresql://user:password@host/db.
_URL_PASSWORD = re.compile(
    r"(?<![\w+.-])([A-Za-z][\w+.-]{0,31}://[^:/@\s]{1,256}+:)[^@\s]{1,256}+@"
)
# Line breaks and other control characters, escaped in the text format.
_CONTROLS = {
    code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, *range(0x80, 0xA0)) if code != 0x09
} | {0x0A: "\\n", 0x0D: "\\r", 0x2028: "\\u2028", 0x2029: "\\u2029"}
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}
_SECRET_KEYS = ("token", "secret", "password", "authorization")


def mask(text: str) -> str:
    """`text` with Slack tokens and URL passwords replaced by ***."""
    text = _URL_PASSWORD.sub(lambda m: m.group(1) + "***@", text)
    return _TOKEN.sub(lambda m: m.group(1) + "-***", text)


def one_line(text: str) -> str:
    """`text` with line breaks and control characters escaped (\\n, \\r, \\x1b...)."""
    return text.translate(_CONTROLS)


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
    """`time LEVEL logger: message key=value...`; a traceback follows on lines starting `  | `."""

    def format(self, record: logging.LogRecord) -> str:
        text = f"{self.formatTime(record)} {record.levelname} {record.name}: "
        text += one_line(record.getMessage())
        extras = _extras(record)
        if extras:
            text += " " + " ".join(f"{k}={one_line(str(v))}" for k, v in extras.items())
        details = []
        if record.exc_info:
            details.append(self.formatException(record.exc_info))
        if record.stack_info:
            details.append(self.formatStack(record.stack_info))
        for detail in details:
            # Indented, so that no line of it (an error message quoting a request, say) can
            # pass for a log line of its own.
            text += "".join(f"\n  | {one_line(line)}" for line in detail.splitlines())
        return mask(text)


def configure_logging(fmt: str = "text", level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
