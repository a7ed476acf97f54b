"""Sign and encode request bodies exactly as Slack sends them to an app's HTTP endpoint.

Slash commands arrive form-encoded, interactivity as a form with one `payload=<json>` field,
Events API callbacks as raw JSON; all carry a v0 HMAC-SHA256 signature over `v0:{ts}:{body}`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
JSON_CONTENT_TYPE = "application/json"


def sign(body: bytes, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """The X-Slack-Signature and X-Slack-Request-Timestamp headers for `body`."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    base = b"v0:" + str(timestamp).encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Signature": f"v0={digest}", "X-Slack-Request-Timestamp": str(timestamp)}


def signed_headers(
    body: bytes, secret: str, *, content_type: str, timestamp: int | None = None
) -> dict[str, str]:
    """`sign()` plus the Content-Type Slack sends with that kind of body."""
    return {"Content-Type": content_type, **sign(body, secret, timestamp)}


def _compact_json(value: Mapping[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"))


def slash_command_body(form: Mapping[str, str]) -> bytes:
    """A slash command as Slack posts it: the fields url-encoded, in the order given."""
    return urlencode(form).encode()


def interactivity_body(payload: Mapping[str, Any]) -> bytes:
    """An interactivity payload (block_actions, view_submission...) as `payload=<json>`."""
    return urlencode({"payload": _compact_json(payload)}).encode()


def event_body(payload: Mapping[str, Any]) -> bytes:
    """An Events API callback (or url_verification) as Slack posts it: raw JSON."""
    return _compact_json(payload).encode()
