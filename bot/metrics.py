"""Prometheus metrics, defined once; every part of the bot counts into these.

Names follow Prometheus conventions (`_total` counters, `_seconds` histograms). Served at
`/metrics` by the web server. Under gunicorn every process writes its values to files in
PROMETHEUS_MULTIPROC_DIR (set by `policybot serve` before this module is imported) and
`/metrics` adds them up.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)

QUESTIONS = Counter(
    "policybot_questions_total", "Questions answered.", ["channel"], registry=REGISTRY
)
UNMATCHED = Counter(
    "policybot_unmatched_questions_total",
    "Questions for which no tool in the registry matched.",
    ["channel"],
    registry=REGISTRY,
)
ANSWER_SECONDS = Histogram(
    "policybot_answer_seconds",
    "Time to answer one question (matching and rendering, without Slack).",
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0),
    registry=REGISTRY,
)
REGISTRY_GENERATION = Gauge(
    "policybot_registry_generation",
    "The registry generation this process answers from (one line per live worker process).",
    multiprocess_mode="liveall",
    registry=REGISTRY,
)
ADMIN_CHANGES = Counter(
    "policybot_admin_changes_total", "Registry changes made.", ["source"], registry=REGISTRY
)
ADMIN_REFUSALS = Counter(
    "policybot_admin_refusals_total",
    "Admin commands refused because the sender is not an admin.",
    registry=REGISTRY,
)
ANNOUNCEMENTS_SENT = Counter(
    "policybot_announcements_sent_total",
    "Announcement and reminder messages Slack accepted.",
    ["kind"],
    registry=REGISTRY,
)
ANNOUNCEMENTS_FAILED = Counter(
    "policybot_announcements_failed_total",
    "Announcement and reminder messages given up on after retries.",
    ["kind"],
    registry=REGISTRY,
)
SLACK_API_ERRORS = Counter(
    "policybot_slack_api_errors_total",
    "Slack Web API calls that failed.",
    ["method", "error"],
    registry=REGISTRY,
)
RATE_LIMIT_WAITS = Counter(
    "policybot_slack_rate_limit_waits_total",
    "Times Slack answered 429 and the bot waited Retry-After.",
    ["method"],
    registry=REGISTRY,
)

REFUSED_REQUESTS = Counter(
    "policybot_refused_requests_total",
    "Requests to /slack/events refused before Bolt saw them, or replays ignored.",
    ["reason"],
    registry=REGISTRY,
)
QUESTION_LOG_DROPPED = Counter(
    "policybot_question_log_dropped_total",
    "Questions not written to the question log (queue full, or refused by the database).",
    ["reason"],
    registry=REGISTRY,
)
RATE_LIMITED = Counter(
    "policybot_rate_limited_total",
    "Refused because one person asked too often: questions, feedback and watches per their "
    "POLICYBOT_*_PER_* limit, requests and exceptions per POLICYBOT_REQUESTS_PER_DAY.",
    ["kind"],
    registry=REGISTRY,
)


def render() -> bytes:
    """The exposition text for `/metrics`: this process's metrics, or under gunicorn (where
    PROMETHEUS_MULTIPROC_DIR is set) those of every worker and the sender together."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        combined = CollectorRegistry()
        multiprocess.MultiProcessCollector(combined)  # type: ignore[no-untyped-call]
        return generate_latest(combined)
    return generate_latest(REGISTRY)
