"""The catalogue: the registry in a browser under /catalogue/ (pages, radar, exports).

`catalogue_for(runtime)` builds it for `policybot serve`, or returns None when
POLICYBOT_CATALOGUE=off; `bot.adapters.web.wsgi.make_wsgi_app` mounts it next to /healthz.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication

    from bot.app.runtime import Runtime


def catalogue_for(runtime: Runtime) -> WSGIApplication | None:
    """The catalogue app on the runtime's registry, or None when it is turned off."""
    settings = runtime.settings
    if not settings.catalogue:
        return None
    from bot.adapters.web.catalogue.app import catalogue_app

    return catalogue_app(
        runtime.service,
        runtime.policies,
        tz=settings.zone,
        public_url=settings.public_url,
        clock=runtime.service.clock,
        versions=runtime.announcements.versions,
        audience_titles=runtime.service.audience_titles,
    )
