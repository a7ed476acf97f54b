"""The errors of the write path: sentences for people, raised by every layer below the front
ends.
"""

from __future__ import annotations

from collections.abc import Sequence


class PolicyError(ValueError):
    """A change that cannot be made; the message is a sentence for people.

    `field` names the policy field at fault when there is one (the edit form shows the
    message on that field). `problems` holds every (field, sentence) found when a policy was
    checked as a whole, so a form can show them all at once; the message is the first.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        problems: Sequence[tuple[str | None, str]] = (),
    ) -> None:
        super().__init__(message)
        self.field = field
        self.problems: tuple[tuple[str | None, str], ...] = tuple(problems) or ((field, message),)


class UnknownToolError(PolicyError):
    def __init__(
        self,
        name: str,
        suggestions: Sequence[str] = (),
        *,
        field: str | None = None,
        hint: str = "",
    ) -> None:
        self.name = name
        self.suggestions = tuple(suggestions)
        close = f" Did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"no tool named '{name}' in the registry.{close}{hint}", field=field)


class StaleEditError(PolicyError):
    """Someone else changed the tool since it was read: optimistic locking refused the write."""


class PermissionDenied(PolicyError):
    """The person may not make this change (not a policy admin)."""
