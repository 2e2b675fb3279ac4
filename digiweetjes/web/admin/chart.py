"""The overview's chart of sign-ups and unsubscribes per week, as inline SVG geometry.

No script and nothing from elsewhere: the template draws the bars this module measures, and a
table beside it gives the same figures to screen readers and to whoever wants the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from babel.dates import format_date

from digiweetjes.render.formatting import LOCALE
from digiweetjes.subscribers.trends import WeekCounts

WIDTH = 780
HEIGHT = 220
#: Room for the axis labels below and the scale on the left.
BOTTOM = 30
LEFT = 40
TOP = 10


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int


@dataclass(frozen=True)
class Column:
    """One week: its label, a bar for sign-ups and one for unsubscribes."""

    label: str
    #: Shown under every fourth week, counting back from this one (26 do not fit a phone).
    show_label: bool
    x: float
    signups: Bar
    unsubscribes: Bar


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    baseline: float
    left: int
    top: int
    maximum: int
    columns: list[Column]
    weeks: list[WeekCounts]

    @property
    def labels(self) -> list[tuple[str, str]]:
        """(week label, long label) for the table."""
        return [(column.label, week_label(week)) for column, week
                in zip(self.columns, self.weeks, strict=True)]


def week_label(week: WeekCounts) -> str:
    """``week van 30 nov. 2026`` (the Monday)."""
    return "week van " + format_date(week.monday, format="d MMM y", locale=LOCALE)


def weekly_chart(weeks: list[WeekCounts]) -> Chart:
    """Bars scaled to the largest week (at least 1, so an empty chart has a baseline)."""
    maximum = max([1, *(w.signups for w in weeks), *(w.unsubscribes for w in weeks)])
    baseline = HEIGHT - BOTTOM
    plot = baseline - TOP
    step = (WIDTH - LEFT) / max(len(weeks), 1)
    bar = step * 0.38

    def bar_of(value: int, x: float) -> Bar:
        height = plot * value / maximum
        return Bar(round(x, 1), round(baseline - height, 1), round(bar, 1), round(height, 1),
                   value)

    columns = []
    for index, week in enumerate(weeks):
        x = LEFT + index * step
        columns.append(Column(format_date(week.monday, format="d/M", locale=LOCALE),
                              (len(weeks) - 1 - index) % 4 == 0,
                              round(x + step / 2, 1),
                              bar_of(week.signups, x + step * 0.1),
                              bar_of(week.unsubscribes, x + step * 0.52)))
    return Chart(WIDTH, HEIGHT, baseline, LEFT, TOP, maximum, columns, weeks)
