"""Link previews: catalogue links posted in Slack unfurl into a status card.

Slack sends `link_shared` for links in the app's unfurl domains (manifest.yml); those under
POLICYBOT_PUBLIC_URL/catalogue/tools/ name a tool by its slug, which is looked up in the
registry the answers use. Each known tool's card goes back in one chat.unfurl; links to
other pages, or to tools no longer in the registry, are left as Slack shows them.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import unquote, urlsplit

from slack_bolt import App
from slack_sdk import WebClient

from bot.adapters.slack.blocks import status_card
from bot.app.runtime import Runtime
from bot.app.service import PolicyService
from bot.domain.links import PREFIX, name_slug
from bot.domain.policy import ToolPolicy

log = logging.getLogger(__name__)

MAX_LINKS = 20  # Slack sends at most a handful per message; never loop over more


def tool_slug(url: str, public_url: str) -> str | None:
    """`https://policybot.example.com/catalogue/tools/claude-code` -> `claude-code`; None for
    a link that is not a tool page under `public_url`."""
    base = urlsplit(public_url)
    link = urlsplit(url)
    pages = base.path.rstrip("/") + PREFIX + "tools/"
    if (link.scheme, link.netloc.lower()) != (base.scheme, base.netloc.lower()):
        return None
    if not link.path.startswith(pages):
        return None
    slug = unquote(link.path[len(pages) :]).strip("/")
    return slug if slug and "/" not in slug else None


class LinkPreviews:
    def __init__(self, service: PolicyService, public_url: str | None) -> None:
        self.service = service
        self.public_url = public_url

    def register(self, app: App) -> None:
        app.event("link_shared")(self.on_link_shared)

    def on_link_shared(self, event: dict[str, Any], client: WebClient) -> None:
        if self.public_url is None:
            return  # no public address: no catalogue links to recognise (the event is acked)
        slugs = {}
        for link in (event.get("links") or [])[:MAX_LINKS]:
            url = str(link.get("url") or "")
            slug = tool_slug(url, self.public_url)
            if slug is not None:
                slugs[url] = slug
        if not slugs:
            return
        registry = self.service.registry()
        by_slug: dict[str, ToolPolicy] = {}
        for each in registry:
            by_slug.setdefault(name_slug(each.name), each)
        today = self.service.clock().astimezone(self.service.tz).date()
        unfurls = {}
        for url, slug in slugs.items():
            policy = by_slug.get(slug)
            if policy is None:
                continue
            alternatives = [registry.get(name) or name for name in policy.alternatives]
            unfurls[url] = status_card(policy, alternatives, today=today, url=url)
        if not unfurls:
            return
        if event.get("source") == "composer":  # a message still being written
            client.chat_unfurl(unfurl_id=event["unfurl_id"], source="composer", unfurls=unfurls)
        else:
            client.chat_unfurl(channel=event["channel"], ts=event["message_ts"], unfurls=unfurls)


def register(app: App, runtime: Runtime) -> None:
    LinkPreviews(runtime.service, runtime.settings.public_url).register(app)
