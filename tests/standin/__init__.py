"""A stand-in for Slack (Web API, response_url, Socket Mode) so tests run with no internet.

    with StandinSlack(members={"C1": ["U1", "U2"]}) as slack:
        client = WebClient(token="xoxb-test", base_url=slack.api_url)
        client.chat_postMessage(channel="C1", text="hi")
        assert slack.messages("C1")[0].text == "hi"

Payload builders live in `payloads`, request signing in `signing`, fixtures in `fixtures`.
"""

from tests.standin.ratelimit import RateLimit
from tests.standin.slack import Call, ResponsePost, StandinSlack
from tests.standin.webapi import EphemeralMessage, Message

__all__ = ["Call", "EphemeralMessage", "Message", "RateLimit", "ResponsePost", "StandinSlack"]
