"""What stands between the internet and Bolt: a request reaches Bolt only when Slack signed it.

`SlackRequestGuard` checks the signature itself, before Bolt parses anything, so that a
stranger's request costs one HMAC over a body already limited in size (see
bot/adapters/web/wsgi.py), is
refused with 401 whatever its shape (a timestamp "abc", bytes that are not UTF-8, broken
JSON), and is never logged. A signed slash command or interaction is acted on once: the
digest of its signature is recorded, and the same request sent again is acknowledged and
dropped (Slack's own re-sends of events carry the same event id and are dropped by the
listeners). Nothing here logs a request body.

Two Bolt middlewares finish the job on signed requests: text the database cannot store is
cleaned where it enters, and a `response_url` outside Slack is refused, so that the bot never
posts to a host someone slipped into a payload.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from slack_bolt import App
from slack_bolt.middleware import Middleware
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

from bot.domain.text import clean_strings
from bot.metrics import REFUSED_REQUESTS

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

# Slack refuses to sign requests older than this; so do Bolt and we.
SIGNATURE_WINDOW_SECONDS = 5 * 60
SLACK_RESPONSE_ORIGIN = "https://hooks.slack.com"
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
_FORM = "application/x-www-form-urlencoded"
_JSON = "application/json"
_TEXT = [("Content-Type", "text/plain; charset=utf-8")]

FirstTime = Callable[[str], bool]


@dataclass(frozen=True)
class SlackEndpoint:
    """What /slack/events needs: the Bolt app, the signing secret, a memory of requests seen.

    `first_time(key)` records `key` and says whether it was new (the processed-event table).
    """

    app: App
    signing_secret: str
    first_time: FirstTime


def _reply(start_response: StartResponse, status: str, text: str = "") -> list[bytes]:
    body = text.encode()
    start_response(status, [*_TEXT, ("Content-Length", str(len(body)))])
    return [body]


def _media_type(content_type: str) -> str:
    """`Application/JSON; charset=utf-8` -> `application/json`."""
    return content_type.partition(";")[0].strip().lower()


def _well_formed(content_type: str, body: str) -> bool:
    """True when Bolt can parse `body`: a JSON object, or a form (its `payload` JSON)."""
    try:
        if content_type == _JSON or body.startswith("{"):
            return isinstance(json.loads(body), dict)
        if not _may_have_payload(body):
            return True  # a form without `payload` (a slash command): nothing to decode
        payload = parse_qs(body).get("payload")
        return payload is None or isinstance(json.loads(payload[0]), dict)
    except ValueError:
        return False


def _may_have_payload(form: str) -> bool:
    """False when no field of the url-encoded `form` can be named `payload`: a key that is
    not literally `payload` and has no %-escape cannot decode to it (cheaper than parsing
    every value, as a slash command has a dozen)."""
    for field in form.split("&"):
        key = field.partition("=")[0]
        if key == "payload" or "%" in key:
            return True
    return False


class SlackRequestGuard:
    """WSGI app for /slack/events: refuse what Slack did not sign, hand the rest to Bolt."""

    def __init__(
        self,
        bolt: WSGIApplication,
        signing_secret: str,
        *,
        first_time: FirstTime,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not signing_secret:
            raise ValueError("the Slack endpoint needs the app's signing secret")
        self.bolt = bolt
        self.secret = signing_secret.encode()
        self.first_time = first_time
        self.clock = clock

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        timestamp = str(environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", ""))
        signature = str(environ.get("HTTP_X_SLACK_SIGNATURE", ""))
        # bot.adapters.web.wsgi.limit_body has read the body (at most its limit) into memory
        # already.
        raw = environ["wsgi.input"].read()
        problem = self._signature_problem(timestamp, signature, raw)
        if problem is not None:
            REFUSED_REQUESTS.labels(problem).inc()
            log.info("refused a request to /slack/events", extra={"reason": problem})
            return _reply(start_response, "401 Unauthorized", "invalid request\n")
        # Bolt reads a body as JSON or as a form whatever the header says, and the signature
        # covers only timestamp and body: so the header decides nothing about replays. Slack
        # sends these two types only; anything else is refused before the replay key is spent.
        content_type = _media_type(str(environ.get("CONTENT_TYPE", "")))
        if content_type not in (_FORM, _JSON):
            REFUSED_REQUESTS.labels("content_type").inc()
            log.warning("refused a signed request with a Content-Type Slack does not send")
            return _reply(start_response, "400 Bad Request", "unsupported content type\n")
        # Every signed request acts once: the signature names this very request (timestamp
        # and body), so the same bytes sent again are acknowledged and dropped.
        key = "request:" + hashlib.sha256(signature.encode()).hexdigest()
        if not self.first_time(key):
            REFUSED_REQUESTS.labels("replayed").inc()
            log.warning("ignored a signed request sent a second time (a replay)")
            return _reply(start_response, "200 OK")
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            body = None
        if body is None or not _well_formed(content_type, body):
            REFUSED_REQUESTS.labels("malformed").inc()
            log.warning("refused a signed request Bolt could not read")
            return _reply(start_response, "400 Bad Request", "malformed request\n")
        environ["wsgi.input"] = io.BytesIO(raw)
        return self.bolt(environ, start_response)

    def _signature_problem(self, timestamp: str, signature: str, body: bytes) -> str | None:
        """Why the request is not Slack's (a metrics label), or None when it is."""
        if not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
            return "unsigned"
        if abs(self.clock() - int(timestamp)) > SIGNATURE_WINDOW_SECONDS:
            return "stale"
        base = b"v0:" + timestamp.encode() + b":" + body
        expected = "v0=" + hmac.new(self.secret, base, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return "bad_signature"
        return None


# -- Bolt middlewares for signed requests ----------------------------------------------------

BodyStep = Callable[[dict[str, Any], Callable[[], BoltResponse]], BoltResponse | None]


class BodyMiddleware(Middleware):
    """A Bolt middleware that needs only the payload: `step(body, next)`.

    Bolt works out a function middleware's arguments by inspecting it on every request;
    this calls the step directly, as Bolt's own middlewares are called.
    """

    def __init__(self, step: BodyStep) -> None:
        self.step = step

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        return self.step(req.body, next)

    @property
    def name(self) -> str:
        return f"BodyMiddleware({getattr(self.step, '__qualname__', repr(self.step))})"


def clean_request_text(body: dict[str, Any], next_: Callable[[], BoltResponse]) -> BoltResponse:
    """Remove NUL and lone surrogates from every string in the payload, for every listener."""
    clean_strings(body)
    return next_()


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of `url` (default ports left out); None when it has none."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname or parts.username is not None:
        return None
    default = {"https": 443, "http": 80}.get(parts.scheme.lower())
    suffix = f":{port}" if port is not None and port != default else ""
    return f"{parts.scheme.lower()}://{parts.hostname.lower()}{suffix}"


def response_origins(api_url: str) -> frozenset[str]:
    """Where a response_url may point: Slack's hooks host, and SLACK_API_URL's own origin."""
    origins = {SLACK_RESPONSE_ORIGIN}
    api = origin_of(api_url)
    if api is not None and api != "https://slack.com":
        origins.add(api)  # a stand-in or proxy hands out response URLs on its own origin
    return frozenset(origins)


def only_slack_response_urls(
    origins: frozenset[str],
) -> Callable[[dict[str, Any], Callable[[], BoltResponse]], BoltResponse]:
    """A Bolt middleware refusing payloads whose response_url points anywhere else."""

    def check(body: dict[str, Any], next_: Callable[[], BoltResponse]) -> BoltResponse:
        urls = [body.get("response_url")]
        listed = body.get("response_urls")
        if isinstance(listed, list):
            urls += [item.get("response_url") for item in listed if isinstance(item, dict)]
        for url in urls:
            if url is not None and (not isinstance(url, str) or origin_of(url) not in origins):
                REFUSED_REQUESTS.labels("foreign_response_url").inc()
                log.warning("refused a request whose response_url is not Slack's")
                return BoltResponse(status=400, body="response_url must be Slack's")
        return next_()

    return check
