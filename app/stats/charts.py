"""Month-by-month bar charts, measured here and drawn as SVG by the template (no script, no
inline style: every colour comes from a class in app.css)."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

WIDTH, HEIGHT = 400, 210
LEFT, RIGHT, TOP, BOTTOM = 30, 6, 16, 40
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM


@dataclass
class Series:
    key: str  # the figure in each month's row
    label: str
    css: str  # the class that colours it


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str


@dataclass
class Text:
    x: float
    y: float
    text: str
    css: str = "chart-label"


@dataclass
class Chart:
    id: str
    title: str
    summary: str
    series: list[Series]
    columns: list[str]  # the table's headings after "Month"
    table: list[tuple[str, list[str]]]
    bars: list[Bar] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    grid: list[tuple[float, str]] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT


def month_name(month: str, fmt: str = "%b %Y") -> str:
    year, number = month.split("-")
    return date(int(year), int(number), 1).strftime(fmt)


def _scale(most: int) -> tuple[int, int]:
    """A round top for the axis and the step between its lines (at most 4 steps)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if most <= step * factor * 4:
                size = step * factor
                return max(size, -(-most // size) * size), size
        step *= 10


def _years(labels: list[str], every: int) -> set[int]:
    """Under which labelled months to write the year: where the year changes, and under the
    first label unless the next label already starts a new year (they would touch)."""
    shown = list(range(0, len(labels), every))
    years = {i for n, i in enumerate(shown) if n and labels[i][:4] != labels[shown[n - 1]][:4]}
    if shown and (len(shown) == 1 or shown[1] not in years):
        years.add(0)
    return years


def chart(chart_id: str, title: str, months: list[dict[str, Any]], series: list[Series],
          stacked: bool = False, extra: list[tuple[str, Any]] | None = None) -> Chart:
    """Bars per month: one series, two stacked, or two overlaid (the second inside the first,
    for a part of a whole such as replies of what was sent)."""
    def top(row: dict[str, Any]) -> int:
        values = [int(row[s.key]) for s in series]
        return sum(values) if stacked else max(values)

    most = max((top(r) for r in months), default=0)
    ceiling, step = _scale(max(most, 1))
    unit = PLOT_H / ceiling
    slot = PLOT_W / max(len(months), 1)
    bar_w = round(slot * 0.66, 2)
    every = max(1, -(-len(months) // 12))  # a label every month up to a year, fewer beyond
    extra = extra or []
    years = _years([row["month"] for row in months], every)
    c = Chart(chart_id, title, "", series,
              [s.label for s in series] + [label for label, _ in extra], [])
    c.grid = [(round(TOP + PLOT_H - v * unit, 2), str(v)) for v in range(0, ceiling + 1, step)]
    for i, row in enumerate(months):
        x = round(LEFT + i * slot + (slot - bar_w) / 2, 2)
        base: float = TOP + PLOT_H
        for s in series:
            value = int(row[s.key])
            if value:
                height = round(value * unit, 2)
                y = round(base - height, 2)
                c.bars.append(Bar(x, y, bar_w, height, s.css))
                if stacked:
                    base = y
        if top(row) and len(months) <= 12:
            c.texts.append(Text(round(x + bar_w / 2, 2), round(TOP + PLOT_H - top(row) * unit - 4, 2),
                                str(top(row)), "chart-value"))
        if i % every == 0:
            middle = round(LEFT + i * slot + slot / 2, 2)
            c.texts.append(Text(middle, HEIGHT - BOTTOM + 16, month_name(row["month"], "%b")))
            if i in years:
                c.texts.append(Text(middle, HEIGHT - BOTTOM + 31, row["month"][:4]))
        c.table.append((month_name(row["month"]),
                        [str(row[s.key]) for s in series] + [fmt(row) for _, fmt in extra]))
    best = max(months, key=top, default=None)
    if best is None or not top(best):
        c.summary = "Nothing in these months."
    else:
        c.summary = (f"Highest in {month_name(best['month'])}: {top(best)}. "
                     f"The table under the chart gives every month.")
    return c


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{round(rate * 100)}%"


def charts(months: list[dict[str, Any]]) -> list[Chart]:
    return [
        chart("active", "Students active", months,
              [Series("students_active", "Students active", "bar-active")]),
        chart("outreach", "Outreach sent, and replies", months,
              [Series("outreach_sent", "Sent", "bar-sent"),
               Series("replies", "Replied", "bar-replied")],
              extra=[("Reply rate", lambda r: percent(r["reply_rate"]))]),
        chart("interviews", "Interviews held", months,
              [Series("interviews_held", "Interviews held", "bar-held")]),
        chart("thanks", "Thank-you notes: on time, and later", months,
              [Series("on_time", "On time", "bar-on-time"),
               Series("late", "Later, or after no interview", "bar-late")], stacked=True),
        chart("reminders", "Reminder emails, and those acted on within a day", months,
              [Series("reminders_sent", "Sent", "bar-sent"),
               Series("reminders_acted_on", "Acted on within a day", "bar-replied")]),
    ]
