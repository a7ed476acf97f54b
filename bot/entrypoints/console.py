"""The console bot: a prompt that answers questions (and admin commands) without Slack."""

from __future__ import annotations

import contextlib
import sys
import uuid

from bot.adapters.db.conversations import conversation_key
from bot.app.service import PolicyService
from bot.domain.text import storable

BANNER = (
    "policybot console: ask about AI tools, e.g. “can I use Claude Code?”.\n"
    "Type `help` for what you can ask, `quit` or Ctrl-D to leave."
)


def run_console(service: PolicyService, *, user: str) -> None:
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (line editing and history at the prompt)
    interactive = sys.stdin.isatty()
    session = conversation_key("console", user, uuid.uuid4().hex[:12])
    if interactive:
        role = "admin" if service.is_admin(user) else "staff"
        print(f"{BANNER}\nYou are {user} ({role}).")
    while True:
        try:
            line = input("you> " if interactive else "")
        except (EOFError, KeyboardInterrupt):
            if interactive:
                print()
            return
        text = storable(line).strip()  # a NUL typed or piped in would fail on PostgreSQL
        if not text:
            continue
        if text.lower() in ("quit", "exit", ":q"):
            return
        # One console session is one conversation: "why?" follows the previous answer.
        reply = service.handle(
            text, user=user, source="console", channel="console", conversation=session
        )
        print(f"bot> {reply.text}\n" if interactive else f"{reply.text}\n")
