"""Signed `private_metadata`: what a form was opened for comes back as the bot wrote it.

Slack hands a modal's `private_metadata` back on submission, but the bot never trusts a
payload's word for what to change: every form it opens carries its metadata as JSON with an
HMAC (`sig`) over the form's callback id and the data, keyed by a secret only the bot holds
(derived from the signing secret, else the bot or app token). A submission of one of these
forms whose metadata is not JSON, or whose signature does not match, is refused with 400
before any listener runs (`verified_forms`). Where the metadata names something to update
(the admin post of a decision), the listener still reads it from the database.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Collection
from typing import Any

from slack_bolt.response import BoltResponse

from bot.config import Settings
from bot.metrics import REFUSED_REQUESTS

log = logging.getLogger(__name__)

SIGNATURE = "sig"


def _canonical(callback: str, data: dict[str, Any]) -> bytes:
    body = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return callback.encode() + b"\n" + body.encode()


class MetadataSeal:
    """Signs the metadata of the forms the bot opens and checks it when they come back."""

    def __init__(self, secret: str) -> None:
        self.key = hashlib.sha256(b"policybot private_metadata\n" + secret.encode()).digest()

    @classmethod
    def for_settings(cls, settings: Settings) -> MetadataSeal:
        secrets = (
            settings.slack_signing_secret,
            settings.slack_bot_token,
            settings.slack_app_token,
        )
        return cls(next((s.get_secret_value() for s in secrets if s is not None), ""))

    def _sign(self, callback: str, data: dict[str, Any]) -> str:
        return hmac.new(self.key, _canonical(callback, data), hashlib.sha256).hexdigest()

    def seal(self, view: dict[str, Any]) -> dict[str, Any]:
        """`view` with its `private_metadata` (JSON, or none) signed for its callback id."""
        text = str(view.get("private_metadata") or "{}")
        data = {k: v for k, v in json.loads(text).items() if k != SIGNATURE}
        data[SIGNATURE] = self._sign(str(view.get("callback_id") or ""), data)
        return {**view, "private_metadata": json.dumps(data)}

    def open(self, view: dict[str, Any]) -> dict[str, Any] | None:
        """The data `view` was opened with, or None unless the bot signed it as it is."""
        try:
            data = json.loads(str(view.get("private_metadata") or ""))
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        signature = data.pop(SIGNATURE, None)
        if not isinstance(signature, str):
            return None
        expected = self._sign(str(view.get("callback_id") or ""), data)
        return data if hmac.compare_digest(expected, signature) else None


Step = Callable[[dict[str, Any], Callable[[], BoltResponse]], BoltResponse | None]


def verified_forms(seal: MetadataSeal, callbacks: Collection[str]) -> Step:
    """A Bolt middleware: a submitted (or closed) form of the bot's own whose metadata does
    not open is refused with 400; one that opens reaches its listener with the data alone
    (`private_metadata` as plain JSON, the signature checked and removed). Interactions
    without the fields every listener reads (a button press without `actions`) get 400 too.
    """

    def refuse(reason: str) -> BoltResponse:
        REFUSED_REQUESTS.labels(reason).inc()
        log.warning("refused a signed interaction", extra={"reason": reason})
        return BoltResponse(status=400, body="malformed interaction")

    def check(body: dict[str, Any], next_: Callable[[], BoltResponse]) -> BoltResponse | None:
        kind = body.get("type")
        if kind == "block_actions":
            actions = body.get("actions")
            if (
                not isinstance(actions, list)
                or not actions
                or not all(
                    isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions
                )
                or not isinstance(body.get("user"), dict)
            ):
                return refuse("malformed")
        elif kind in ("view_submission", "view_closed"):
            view = body.get("view")
            if not isinstance(view, dict) or not isinstance(body.get("user"), dict):
                return refuse("malformed")
            if view.get("callback_id") in callbacks:
                data = seal.open(view)
                if data is None:
                    return refuse("private_metadata")
                view["private_metadata"] = json.dumps(data)
        next_()
        return None

    return check
