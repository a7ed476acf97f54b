"""The radar's geometry: categories as sectors, statuses as rings, each tool a numbered point.

Pure arithmetic; the template draws it. Points sit at fixed places computed from their order
within their sector and ring, so the same registry always draws the same picture.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.links import tool_path
from bot.domain.lists import STATUS_ORDER
from bot.domain.policy import Status, ToolPolicy

SIZE = 720  # the square the radar is drawn in, in SVG units
CENTRE = SIZE / 2
OUTER = SIZE / 2 - 24
# Outer radius of each ring as a share of OUTER, usable in the middle.
RING_SHARES = (0.38, 0.62, 0.82, 1.0)
MAX_POINTS = 240  # more are not drawn (the page says so and offers the filters)
POINT_RADIUS = 9.0
_GOLDEN = (math.sqrt(5) - 1) / 2

STATUS_COLOURS: dict[Status, str] = {
    Status.ALLOWED: "#1b7f3b",
    Status.CONDITIONAL: "#a15c00",
    Status.UNDER_REVIEW: "#1d5fa8",
    Status.BANNED: "#b3261e",
}
RING_FILLS = ("#eef6f0", "#f7f1e6", "#edf2f9", "#f9eceb")


@dataclass(frozen=True)
class Ring:
    status: Status
    radius: float
    fill: str
    label_y: float  # where its name sits, on the vertical axis above the centre


@dataclass(frozen=True)
class Sector:
    name: str
    path: str  # the sector's boundary line from the centre
    label_x: float
    label_y: float
    anchor: str  # text-anchor of its label


@dataclass(frozen=True)
class Point:
    number: int
    name: str
    href: str
    status: Status
    colour: str
    x: float
    y: float
    recent: bool
    sector: str


@dataclass(frozen=True)
class Radar:
    size: int
    centre: float
    rings: tuple[Ring, ...]
    sectors: tuple[Sector, ...]
    points: tuple[Point, ...]
    total: int  # tools asked to be drawn; more than len(points) when capped

    def legend(self) -> list[tuple[str, list[tuple[Status, list[Point]]]]]:
        """Each sector's points by ring, in drawing order: the list beside the picture."""
        grouped: dict[str, dict[Status, list[Point]]] = {s.name: {} for s in self.sectors}
        for point in self.points:
            grouped[point.sector].setdefault(point.status, []).append(point)
        return [
            (name, [(status, rings[status]) for status in STATUS_ORDER if status in rings])
            for name, rings in grouped.items()
        ]


def _polar(radius: float, angle: float) -> tuple[float, float]:
    return CENTRE + radius * math.cos(angle), CENTRE + radius * math.sin(angle)


def layout(
    tools: Sequence[ToolPolicy],
    *,
    recent: frozenset[str] = frozenset(),
    uncategorised: str = "uncategorised",
    limit: int = MAX_POINTS,
) -> Radar:
    """The radar of `tools` (at most `limit` drawn), numbered by sector, ring and name.

    `recent` holds the name keys of the tools to mark as recently changed.
    """
    drawn = list(tools[:limit])
    names = sorted({p.category or uncategorised for p in drawn}, key=str.casefold) or [
        uncategorised
    ]
    span = 2 * math.pi / len(names)
    start = -math.pi / 2  # the first sector starts straight up
    radii = [OUTER * share for share in RING_SHARES]

    sectors = []
    for index, name in enumerate(names):
        angle = start + index * span
        edge_x, edge_y = _polar(OUTER, angle)
        middle = angle + span / 2
        label_x, label_y = _polar(OUTER + 14, middle)
        cos = math.cos(middle)
        anchor = "middle" if abs(cos) < 0.3 else ("start" if cos > 0 else "end")
        sectors.append(
            Sector(
                name=name,
                path=f"M{CENTRE:.1f},{CENTRE:.1f} L{edge_x:.1f},{edge_y:.1f}",
                label_x=round(label_x, 1),
                label_y=round(label_y + 4, 1),
                anchor=anchor,
            )
        )
    rings = tuple(
        Ring(status, radius, RING_FILLS[i], CENTRE - radius + 14)
        for i, (status, radius) in enumerate(zip(STATUS_ORDER, radii, strict=True))
    )

    cells: dict[tuple[int, int], list[ToolPolicy]] = {}
    for policy in drawn:
        sector = names.index(policy.category or uncategorised)
        ring = STATUS_ORDER.index(policy.status)
        cells.setdefault((sector, ring), []).append(policy)

    points: list[Point] = []
    number = 0
    for sector_index in range(len(names)):
        for ring_index in range(len(STATUS_ORDER)):
            cell = sorted(
                cells.get((sector_index, ring_index), []), key=lambda p: p.name.casefold()
            )
            inner = radii[ring_index - 1] if ring_index else 0.0
            outer = radii[ring_index]
            for position, policy in enumerate(cell):
                number += 1
                x, y = _place(position, len(cell), sector_index, span, start, inner, outer)
                points.append(
                    Point(
                        number=number,
                        name=policy.name,
                        href=tool_path(policy.name),
                        status=policy.status,
                        colour=STATUS_COLOURS[policy.status],
                        x=round(x, 1),
                        y=round(y, 1),
                        recent=" ".join(policy.name.casefold().split()) in recent,
                        sector=names[sector_index],
                    )
                )
    return Radar(SIZE, CENTRE, rings, tuple(sectors), tuple(points), len(tools))


def _place(
    position: int, count: int, sector: int, span: float, start: float, inner: float, outer: float
) -> tuple[float, float]:
    """A spot inside one sector and ring: spread over the ring's depth and the sector's width."""
    margin = POINT_RADIUS + 3
    low = inner + margin if inner else margin * 2.5
    high = max(low, outer - margin)
    # Radius: evenly through the ring's depth; angle: a golden-ratio walk across the sector,
    # which keeps neighbours apart for any count.
    depth = (position + 0.5) / count
    radius = low + (high - low) * depth
    pad = min(span / 2 - 0.01, (margin + 2) / max(radius, 1.0))
    width = span - 2 * pad
    along = (position * _GOLDEN + 0.5) % 1.0
    angle = start + sector * span + pad + width * along
    return _polar(radius, angle)
