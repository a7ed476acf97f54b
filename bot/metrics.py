"""Prometheus metrics, defined once; every part of the bot counts into these.

Names follow Prometheus conventions (`_total` counters, `_seconds` histograms). Served at
`/metrics` by the web server.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

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


def render() -> bytes:
    """The exposition text for `/metrics`."""
    return generate_latest(REGISTRY)
