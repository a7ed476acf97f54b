"""The catalogue's WSGI app: server-rendered pages under /catalogue/, read-only.

It answers GET and HEAD only, escapes everything admins wrote (Jinja autoescape), and sends
security headers on every response: a Content-Security-Policy without inline script or
style, nosniff, and no framing. It shows policies and their history, never questions.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import mimetypes
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs

import jinja2
import sqlalchemy as sa

from bot.adapters.db.models import utcnow
from bot.adapters.files.vocabularyfile import shipped_vocabulary
from bot.adapters.web.catalogue import exports, i18n
from bot.adapters.web.catalogue.model import PAGE_SIZE, RECENT_DAYS, Catalogue, Filters
from bot.adapters.web.catalogue.radar import STATUS_COLOURS, Radar, layout
from bot.app.versions import VersionView, version_label
from bot.domain.answers import (
    AnswerKind,
    Registry,
    ToolAnswer,
    answer_question,
    list_heading,
    variant_lines,
)
from bot.domain.audiences import localised, with_rule
from bot.domain.errors import PolicyError
from bot.domain.links import PREFIX, tool_path
from bot.domain.lists import STATUS_ORDER, group_by_status
from bot.domain.names import name_key
from bot.domain.phrases import phrases_for
from bot.domain.policy import DataClass, Status, ToolPolicy

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

# 'self' only: our own stylesheet and script; no inline script or style, no framing.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)
HTML = "text/html; charset=utf-8"
MAX_QUESTION = 500  # characters of a search kept; the rest is cut
MAX_QUERY_FIELDS = 100
CHANGES_SHOWN = 100
VERSION_CHANGES_SHOWN = 200  # of one version's changes (a baseline holds every tool)
STATIC_CACHE = "public, max-age=3600"
MAX_CACHED_EXPORTS = 12


class RegistrySource(Protocol):
    """The cached registry snapshot answers use (PolicyService)."""

    def registry(self) -> Registry: ...


class Revision(Protocol):
    """One recorded change to a tool, as the history repository gives it."""

    @property
    def tool(self) -> str: ...
    @property
    def action(self) -> str: ...  # create | update | delete
    @property
    def author(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def at(self) -> dt.datetime: ...
    @property
    def changes(self) -> Mapping[str, Any]: ...  # field -> [old, new]
    @property
    def version(self) -> int | None: ...  # the policy version it belongs to


class Revisions(Protocol):
    """What the catalogue reads of the registry's history (the Store)."""

    def history(self, name: str) -> Sequence[Revision]: ...

    def recent_changes(self, limit: int = 10) -> Sequence[Revision]: ...

    def changed_since(self, since: dt.datetime) -> set[str]: ...


class VersionSource(Protocol):
    """What the catalogue reads of policy versions (bot.app.versions.Versions)."""

    def excerpt(self, number: int, limit: int) -> tuple[VersionView, int]: ...


@dataclass(frozen=True)
class Option:
    """One value a filter offers: what goes in the URL, what people read, how many tools
    have it (None where counting makes no sense), and whether the page's URL chose it."""

    value: str
    text: str
    chosen: bool
    count: int | None = None


@dataclass(frozen=True)
class FilterField:
    """One field of the filter form: its query name, its label's key, its options, and
    whether it takes several values (checkboxes) or one (a select)."""

    name: str
    label: str
    options: list[Option]
    multiple: bool = True

    @property
    def chosen(self) -> list[str]:
        """The texts of the chosen options, for the summary of a closed list."""
        return [option.text for option in self.options if option.chosen]


@dataclass
class Response:
    status: str
    body: bytes
    content_type: str = HTML
    headers: list[tuple[str, str]] = field(default_factory=list)


def _static_files() -> dict[str, tuple[bytes, str]]:
    """Every file in static/, read once: the only files the catalogue serves."""
    files: dict[str, tuple[bytes, str]] = {}
    for item in resources.files("bot.adapters.web.catalogue").joinpath("static").iterdir():
        if item.is_file():
            kind = mimetypes.guess_type(item.name)[0] or "application/octet-stream"
            if kind.startswith("text/") or kind.endswith(("javascript", "json", "svg+xml")):
                kind += "; charset=utf-8"
            files[item.name] = (item.read_bytes(), kind)
    return files


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bot.adapters.web.catalogue", "templates"),
        autoescape=True,  # every page and the SVG: admin-written text is always escaped
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        prefix=PREFIX,
        tool_path=tool_path,
        status_order=STATUS_ORDER,
        data_classes=list(DataClass),
        colours=STATUS_COLOURS,
    )
    return env


class CatalogueApp:
    """The catalogue under /catalogue/; mount it with
    `bot.adapters.web.wsgi.make_wsgi_app(catalogue=...)`.
    """

    def __init__(
        self,
        source: RegistrySource,
        revisions: Revisions,
        *,
        tz: dt.tzinfo = dt.UTC,
        clock: Callable[[], dt.datetime] = utcnow,
        public_url: str | None = None,
        versions: VersionSource | None = None,
        audience_titles: Callable[[], Mapping[str, Mapping[str, str]]] | None = None,
    ) -> None:
        self.source = source
        # Each audience's title per language ("" the default); never its members.
        self.audience_titles = audience_titles or dict
        self.revisions = revisions
        self.versions = versions  # None: no version pages, the history shows no links
        self.tz = tz
        self.clock = clock
        self.public_url = public_url
        self.env = _environment()
        self.static = _static_files()
        self._snapshot: tuple[int, dt.date, Catalogue] | None = None
        self._building = threading.Lock()
        self._settling = threading.Lock()
        self._settled = -1  # how many of the snapshot's lazy indexes were built when frozen
        # Exports of the current snapshot, by format and filter: a registry of 10,000 tools
        # takes seconds to write as YAML, so each is written once per registry change.
        self._exports: dict[tuple[int, str, str], bytes] = {}

    # -- the data --------------------------------------------------------------------------

    def today(self) -> dt.date:
        return self.clock().astimezone(self.tz).date()

    def catalogue(self) -> Catalogue:
        """The catalogue of the current registry snapshot, rebuilt when it or the day changes."""
        registry = self.source.registry()
        today = self.today()
        cached = self._snapshot
        if cached is not None and cached[0] == id(registry) and cached[1] == today:
            if registry.built != self._settled:
                self._settle(registry)  # a search or a Slack question built the matcher since
            return cached[2]
        with self._building:  # one thread builds; the others wait for its result
            cached = self._snapshot
            if cached is not None and cached[0] == id(registry) and cached[1] == today:
                return cached[2]
            catalogue = Catalogue(registry, recent=self._recent(), today=today)
            self._snapshot = (id(registry), today, catalogue)
            self._exports = {}
            self._settled = -1
            self._settle(registry)
            return catalogue

    def _settle(self, registry: Registry) -> None:
        """Freeze what the snapshot holds (`settle_long_lived`), again once its answers'
        indexes are built, so their objects stay out of the collector's full passes too."""
        with self._settling:
            if registry.built != self._settled:
                self._settled = registry.built
                settle_long_lived()

    def _recent(self) -> frozenset[str]:
        return recently_changed(self.revisions, self.clock())

    # -- WSGI ------------------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            response = Response(
                "405 Method Not Allowed",
                b"the catalogue is read-only: use GET\n",
                "text/plain; charset=utf-8",
                [("Allow", "GET, HEAD")],
            )
        else:
            response = self._respond(environ)
        headers = [
            ("Content-Type", response.content_type),
            ("Content-Length", str(len(response.body))),
            *SECURITY_HEADERS,
            *response.headers,
        ]
        if not any(name == "Cache-Control" for name, _ in response.headers):
            headers.append(("Cache-Control", "no-cache"))
        start_response(response.status, headers)
        return [] if method == "HEAD" else [response.body]

    def _respond(self, environ: WSGIEnvironment) -> Response:
        # PATH_INFO arrives as latin-1 text of the raw bytes (PEP 3333); names may be UTF-8.
        raw = environ.get("PATH_INFO", "")
        path = raw.encode("latin-1", "replace").decode("utf-8", "replace")
        lang = i18n.negotiate(environ.get("HTTP_ACCEPT_LANGUAGE"))
        try:
            query = parse_qs(environ.get("QUERY_STRING", ""), max_num_fields=MAX_QUERY_FIELDS)
        except ValueError:
            return Response("400 Bad Request", b"too many query parameters\n", "text/plain")
        try:
            return self._route(path, query, lang)
        except sa.exc.SQLAlchemyError:
            log.exception("the catalogue could not read the registry")
            return Response(
                "503 Service Unavailable",
                b"the registry cannot be read right now; try again shortly\n",
                "text/plain; charset=utf-8",
            )
        except Exception:  # a bug: say so with the security headers, and log it
            log.exception("the catalogue failed on %s", path)
            return Response(
                "500 Internal Server Error", b"the catalogue failed\n", "text/plain; charset=utf-8"
            )

    def _route(self, path: str, query: Mapping[str, list[str]], lang: str) -> Response:
        if path == PREFIX.rstrip("/"):
            return Response("308 Permanent Redirect", b"", headers=[("Location", PREFIX)])
        rest = path.removeprefix(PREFIX)
        if rest == "":
            return self._index(query, lang)
        if rest in ("radar", "radar/"):
            return self._radar_page(query, lang)
        if rest == "radar.svg":
            return self._radar_svg(query, lang)
        if rest in ("changes", "changes/"):
            return self._changes(lang)
        version = re.fullmatch(r"changes/v([0-9]{1,9})/?", rest)
        if version:
            return self._version(int(version.group(1)), lang)
        if rest.startswith("tools/"):
            return self._tool(rest.removeprefix("tools/").strip("/"), lang)
        export = re.fullmatch(r"export\.(json|csv|yaml)", rest)
        if export:
            return self._export(export.group(1), query)
        if rest.startswith("static/") and rest.removeprefix("static/") in self.static:
            body, kind = self.static[rest.removeprefix("static/")]
            return Response("200 OK", body, kind, [("Cache-Control", STATIC_CACHE)])
        return self._not_found(lang)

    # -- pages -----------------------------------------------------------------------------

    def _render(self, template: str, lang: str, status: str = "200 OK", **values: Any) -> Response:
        words = i18n.words(lang)
        phrases = i18n.phrases(lang)

        def status_label(status: Status | str) -> str:
            return phrases.status_labels[Status(status)]

        def data_name(data: DataClass | str) -> str:
            return phrases.data_names[DataClass(data)]

        def category_name(category: str) -> str:
            return i18n.category_name(category, lang)

        def field_name(name: str) -> str:
            return words.get(_FIELD_WORDS.get(name, ""), name)

        def show_value(name: str, value: Any) -> str:
            """A revision's old or new value in words: statuses and data classes named."""
            if value is None or value == [] or value == "":
                return words["empty"]
            if name == "status" and value in Status.choices():
                return status_label(value)
            if name == "max_data" and value in {d.value for d in DataClass}:
                return data_name(value)
            if name == "rules" and isinstance(value, list):
                # Each audience by its title (never its members), then the fields it sets.
                titles = self.audience_titles()
                return "; ".join(
                    f"{_title(titles, rule.get('audience', ''), lang)}: "
                    + ", ".join(
                        show_value(key, item)
                        for key, item in rule.items()
                        if key not in ("audience", "translations")
                    )
                    for rule in value
                    if isinstance(rule, dict)
                )
            if name == "translations" and isinstance(value, dict):
                return ", ".join(value)  # the languages written
            if isinstance(value, list):
                return ", ".join(str(item) for item in value)
            return str(value)

        def filter_fields(catalogue: Catalogue, filters: Filters) -> list[FilterField]:
            """The filter form's fields: each value the registry has, with its count, and
            every value the URL chose, so the form shows exactly the filter that is on."""
            return [
                FilterField(
                    "status",
                    "filter_status",
                    [
                        Option(
                            s.value,
                            status_label(s),
                            s in filters.statuses,
                            catalogue.status_counts.get(s, 0),
                        )
                        for s in STATUS_ORDER
                    ],
                ),
                FilterField(
                    "category",
                    "filter_category",
                    [
                        Option(o.value, category_name(o.value), o.chosen, o.count)
                        for o in _counted_options(catalogue.categories, filters.categories)
                    ],
                ),
                FilterField(
                    "vendor", "filter_vendor", _counted_options(catalogue.vendors, filters.vendors)
                ),
                FilterField(
                    "data",
                    "filter_data",
                    [Option(d.value, data_name(d), d == filters.data) for d in DataClass],
                    multiple=False,  # "cleared for at least": one class says it all
                ),
            ]

        page = self.env.get_template(template).render(
            lang=lang,
            w=words,
            status_label=status_label,
            data_name=data_name,
            field_name=field_name,
            category_name=category_name,
            label_lines=label_lines,
            show_value=show_value,
            safe_url=_safe_url,
            filter_fields=filter_fields,
            # What every page takes, unless the page says otherwise.
            **{
                "standalone": False,
                "catalogue": None,
                "filters": Filters(),
                "q": "",
                "heading": "",
                "hint": "",
                "link": "",
                "link_text": "",
                "recent_days": RECENT_DAYS,
                **values,
            },
        )
        return Response(status, page.encode("utf-8"), headers=[("Vary", "Accept-Language")])

    def _index(self, query: Mapping[str, list[str]], lang: str) -> Response:
        unknown = Filters.unknown(query)
        if unknown is not None:
            return self._bad_filter(*unknown, lang)
        catalogue = self.catalogue()
        filters = Filters.from_query(query)
        question = " ".join(" ".join(query.get("q", [])).split())[:MAX_QUESTION]
        if question:
            return self._search(catalogue, question, lang)
        page = catalogue.page(filters, _page_number(query))
        return self._render("index.html", lang, catalogue=catalogue, filters=filters, page=page)

    def _search(self, catalogue: Catalogue, question: str, lang: str) -> Response:
        """The answer Slack would give, as pages: the named tools, or a list grouped by
        status (the first page of it, with a link to the whole list as a catalogue filter)."""
        answer = answer_question(question, catalogue.registry, today=catalogue.today)
        said = phrases_for(answer.language)  # the answer's own words, as in Slack
        values: dict[str, Any] = {
            "catalogue": catalogue,
            "q": question,
            "answer": answer,
            "kind": answer.kind.value,
            "results": _unique(t.policy for t in answer.tools),
            "ambiguous": _ambiguous(answer.tools),
            "heading": "",
            "groups": [],
            "whole_list": "",
            "variants": [],
            "page_size": PAGE_SIZE,
        }
        if answer.kind is AnswerKind.LIST:
            shown = answer.listed[:PAGE_SIZE]
            values["heading"] = list_heading(answer, said)
            values["groups"] = group_by_status(shown)
            if answer.listing is not None and len(answer.listed) > len(shown):
                whole = Filters.of_list(answer.listing, (c for c, _ in catalogue.categories))
                values["whole_list"] = whole.query()
        elif answer.kind is AnswerKind.VARIANT:
            values["variants"] = variant_lines(answer, said)
            values["results"] = _unique(p for v in answer.variants for p in v.related)
        return self._render("search.html", lang, **values)

    def _radar(self, filters: Filters, lang: str) -> tuple[Catalogue, Radar]:
        catalogue = self.catalogue()
        radar = layout(
            catalogue.select(filters),
            recent=catalogue.recent,
            uncategorised=i18n.words(lang)["uncategorised"],
        )
        return catalogue, radar

    def _radar_page(self, query: Mapping[str, list[str]], lang: str) -> Response:
        filters = Filters.from_query(query)
        catalogue, radar = self._radar(filters, lang)
        return self._render("radar.html", lang, catalogue=catalogue, filters=filters, radar=radar)

    def _radar_svg(self, query: Mapping[str, list[str]], lang: str) -> Response:
        _, radar = self._radar(Filters.from_query(query), lang)
        response = self._render("radar.svg", lang, radar=radar, standalone=True)
        response.content_type = "image/svg+xml; charset=utf-8"
        return response

    def _tool(self, slug_text: str, lang: str) -> Response:
        catalogue = self.catalogue()
        tools = catalogue.by_slug(slug_text)
        if not tools:
            return self._not_found(lang)
        entries = []
        titles = self.audience_titles()
        for written in tools:
            policy = localised(written, lang)
            rules = [
                {
                    "title": _title(titles, rule.audience, lang),
                    "policy": localised(with_rule(written, rule), lang),
                }
                for rule in written.rules
            ]
            entries.append(
                {
                    "policy": policy,
                    "rules": rules,
                    "alternatives": catalogue.resolve(policy.alternatives),
                    "alternative_for": catalogue.alternative_for(policy),
                    "upcoming": catalogue.upcoming(policy),
                    "recent": catalogue.is_recent(policy),
                    "history": [
                        self._history_row(revision)
                        for revision in reversed(self.revisions.history(policy.name))
                    ],
                }
            )
        return self._render(
            "tool.html",
            lang,
            catalogue=catalogue,
            entries=entries,
            title=", ".join(p.name for p in tools),
        )

    def _changes(self, lang: str) -> Response:
        catalogue = self.catalogue()
        rows = [
            {
                **self._history_row(revision),
                "tool": revision.tool,
                "known": catalogue.registry.get(revision.tool) is not None,
            }
            for revision in self.revisions.recent_changes(CHANGES_SHOWN)
        ]
        return self._render("changes.html", lang, catalogue=catalogue, rows=rows)

    def _version(self, number: int, lang: str) -> Response:
        """One policy version: who made it, when, and what it changed (the first
        VERSION_CHANGES_SHOWN changes; the rest are counted)."""
        if self.versions is None:
            return self._not_found(lang)
        try:
            version, total = self.versions.excerpt(number, VERSION_CHANGES_SHOWN)
        except PolicyError:
            return self._no_version(number, lang)
        catalogue = self.catalogue()
        rows = [
            {
                "tool": change["tool"],
                "known": catalogue.registry.get(change["tool"]) is not None,
                "action": change["action"],
                "changes": _field_changes(change["changes"]),
            }
            for change in version.changes
        ]
        return self._render(
            "version.html",
            lang,
            catalogue=catalogue,
            version=version,
            label=version_label(version.number),
            when=version.created_at.astimezone(self.tz).strftime("%Y-%m-%d %H:%M"),
            rows=rows,
            total=total,
        )

    def _history_row(self, revision: Revision) -> dict[str, Any]:
        """One revision as the templates show it, with its version's label and page."""
        row = _history_row(revision, self.tz)
        row["version"] = row["version_href"] = None
        if revision.version is not None:
            row["version"] = label = version_label(revision.version)
            if self.versions is not None:
                row["version_href"] = f"{PREFIX}changes/{label}"
        return row

    def _export(self, fmt: str, query: Mapping[str, list[str]]) -> Response:
        catalogue = self.catalogue()
        filters = Filters.from_query(query)
        key = (id(catalogue), fmt, filters.query())
        body = self._exports.get(key)
        if body is None:
            body = exports.export(
                fmt,
                catalogue.select(filters),
                is_recent=catalogue.is_recent,
                generated_at=self.clock(),
                base_url=self.public_url or "",
            ).encode("utf-8")
            with self._building:
                if len(self._exports) >= MAX_CACHED_EXPORTS:
                    self._exports.pop(next(iter(self._exports)))
                self._exports[key] = body
        filename = f"policybot-catalogue.{fmt}"
        return Response(
            "200 OK",
            body,
            exports.CONTENT_TYPES[fmt],
            [("Content-Disposition", f'attachment; filename="{filename}"')],
        )

    def _not_found(self, lang: str) -> Response:
        return self._render("not_found.html", lang, "404 Not Found")

    def _no_version(self, number: int, lang: str) -> Response:
        words = i18n.words(lang)
        return self._render(
            "not_found.html",
            lang,
            "404 Not Found",
            heading=words["no_version"].format(number=number),
            hint=words["no_version_hint"],
            link=f"{PREFIX}changes",
            link_text=words["nav_changes"],
        )

    def _bad_filter(self, field: str, value: str, lang: str) -> Response:
        words = i18n.words(lang)
        phrases = i18n.phrases(lang)
        if field == "status":
            choices = [f"{s.value} ({phrases.status_labels[s]})" for s in STATUS_ORDER]
        else:
            choices = [f"{d.value} ({phrases.data_names[d]})" for d in DataClass]
        name = words["filter_status" if field == "status" else "filter_data"]
        return self._render(
            "not_found.html",
            lang,
            "400 Bad Request",
            heading=words["bad_filter"].format(field=name.lower(), value=value[:100]),
            hint=words["bad_filter_hint"].format(choices=", ".join(choices)),
            link=PREFIX,
            link_text=words["nav_catalogue"],
        )


# A revision's field -> the word the tool page uses for it.
_FIELD_WORDS = {
    "status": "status",
    "vendor": "vendor",
    "category": "category",
    "aliases": "aliases",
    "reason": "reason",
    "conditions": "conditions",
    "max_data": "data_limit",
    "alternatives": "alternatives",
    "effective": "col_effective",
    "owner": "owner",
    "link": "more",
}
_SAFE_URL = re.compile(r"^https?://[^\s<>\"']+$", re.IGNORECASE)


def _safe_url(url: str | None) -> bool:
    """True for a plain http(s) URL, the only kind a page makes a link of."""
    return bool(url and _SAFE_URL.match(url))


# A radar label wider than this (in characters) is set on two lines: the margin beside the
# circle holds about 10 characters of the label's font, and a sector may face either side.
LABEL_LINE_CHARS = 10


def label_lines(text: str) -> list[str]:
    """A sector's label in lines that fit beside the radar: "Coding assistants" on two."""
    if len(text) <= LABEL_LINE_CHARS or " " not in text:
        return [text]
    spaces = [i for i, c in enumerate(text) if c == " "]
    cut = min(spaces, key=lambda i: abs(i - len(text) / 2))
    return [text[:cut], text[cut + 1 :]]


def _counted_options(counted: Sequence[tuple[str, int]], chosen: frozenset[str]) -> list[Option]:
    """A multi-value filter's options: the registry's values with their counts, then any
    value the URL chose that no tool has (0), so a shared link is shown as it is."""
    known = {value for value, _ in counted}
    options = [Option(value, value, value in chosen, n) for value, n in counted]
    options += [Option(value, value, True, 0) for value in sorted(chosen - known)]
    return options


def _page_number(query: Mapping[str, list[str]]) -> int:
    text = (query.get("page") or ["1"])[0]
    return int(text) if text.isdigit() and len(text) < 7 else 1


def _unique(policies: Iterable[ToolPolicy]) -> list[ToolPolicy]:
    seen: dict[str, ToolPolicy] = {}
    for policy in policies:
        seen.setdefault(policy.name, policy)
    return list(seen.values())


def _ambiguous(tools: Sequence[ToolAnswer]) -> list[tuple[str, list[str]]]:
    """Each phrase that named several tools, with their names."""
    notes: dict[str, list[str]] = {}
    for tool in tools:
        if tool.ambiguous:
            notes.setdefault(tool.matched, []).append(tool.policy.name)
    return list(notes.items())


def _field_changes(changes: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """A revision's changes as (field, old, new) rows."""
    rows = []
    for name, pair in (changes or {}).items():
        old, new = [*list(pair), None, None][:2]
        rows.append({"field": name, "old": old, "new": new})
    return rows


def _title(titles: Mapping[str, Mapping[str, str]], audience: str, lang: str) -> str:
    """An audience's title in `lang`, its default title, or its name."""
    names = titles.get(audience, {})
    return names.get(lang) or names.get("") or audience


def _history_row(revision: Revision, tz: dt.tzinfo) -> dict[str, Any]:
    """One revision as the templates show it: when, who, what, each field's old and new."""
    return {
        "when": revision.at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        "iso": revision.at.isoformat(),
        "who": revision.author,
        "source": revision.source,
        "action": revision.action,
        "changes": _field_changes(revision.changes),
    }


def settle_long_lived() -> None:
    """Keep the snapshot out of the garbage collector's full passes.

    A full pass walks every object; with 10,000 tools in memory it took 0.3 to 1.7 s on the
    benchmark machine, and whichever request it landed in paid for it. Snapshots hold no
    reference cycles (refcounting frees them when replaced), so after collecting what is
    garbage now, everything alive is frozen: later full passes walk only newer objects.
    """
    gc.collect()
    gc.freeze()


def recently_changed(revisions: Revisions, now: dt.datetime) -> frozenset[str]:
    """The name keys of the tools changed in the last RECENT_DAYS days."""
    since = now - dt.timedelta(days=RECENT_DAYS)
    return frozenset(name_key(name) for name in revisions.changed_since(since))


def export_registry(
    fmt: str,
    policies: Iterable[ToolPolicy],
    revisions: Revisions,
    *,
    filters: Filters = Filters(),
    now: dt.datetime,
    tz: dt.tzinfo = dt.UTC,
    public_url: str | None = None,
) -> str:
    """The registry (with `filters`) in export format `fmt`, as the catalogue serves it."""
    catalogue = Catalogue(
        Registry(policies, shipped_vocabulary()),
        recent=recently_changed(revisions, now),
        today=now.astimezone(tz).date(),
    )
    return exports.export(
        fmt,
        catalogue.select(filters),
        is_recent=catalogue.is_recent,
        generated_at=now,
        base_url=public_url or "",
    )


def catalogue_app(
    source: RegistrySource,
    revisions: Revisions,
    *,
    tz: dt.tzinfo = dt.UTC,
    public_url: str | None = None,
    clock: Callable[[], dt.datetime] = utcnow,
    versions: VersionSource | None = None,
    audience_titles: Callable[[], Mapping[str, Mapping[str, str]]] | None = None,
) -> WSGIApplication:
    """The catalogue as a WSGI app (typed for `make_wsgi_app`)."""
    return CatalogueApp(
        source,
        revisions,
        tz=tz,
        public_url=public_url,
        clock=clock,
        versions=versions,
        audience_titles=audience_titles,
    )
