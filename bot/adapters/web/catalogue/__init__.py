"""The catalogue: the registry in a browser under /catalogue/ (pages, radar, exports).

`bot.compose.build_catalogue(runtime)` builds it (`catalogue_app`), or returns None when
POLICYBOT_CATALOGUE=off; `bot.adapters.web.wsgi.make_wsgi_app` mounts it next to /healthz.
"""
