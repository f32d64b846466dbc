"""Live numbers in the analyst's prose: `{{ … }}` placeholders filled from the marts, formatted as the tables
format them (pipeline.reports.tables.format_values, in the build's language).

Syntax (spaces inside the braces are optional):

    {{ P2.headline }}             the headline share of item P2 in the newest wave: "90 %"
    {{ P2.very_high.pct }}        the share of one category: "50 %"; {{ P2.very_high.n }} its count: "5"
    {{ 2024:P1.n }}               the same in wave 2024 (any wave in the marts, by its key)
    {{ waves.2024.response_rate }} a wave's response: invited, complete, partial, response_rate, fielded, label
    {{ P1.figure }}               the number of P1's figure in this document: "1"

Item measures: n (base), headline (top-2 for degree items, yes for yes/no items), ci_low and ci_high (its Wilson 95 %
interval, without the % sign, as in the tables), top2, top3, mean, change (the headline share's change since the
previous wave, in percentage points, "+12"), figure. Categories: the keys of the item's scale in the codebook.

A placeholder that names no item, measure, category or wave is an error that names the allowed names; so is a value
that does not exist (the mean of a yes/no item, an item not asked in the wave, a change without a previous wave). In
the public profile a value the disclosure decision hides (marts.item_disclosure, the response counts below
PIPELINE_MIN_CELL) is an error too: the prose must not print what the tables hide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from pipeline.reports.data import ReportData, newest_wave
from pipeline.reports.disclosure import count_hidden
from pipeline.reports.tables import format_values

PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}")
# measure → (column of marts.item_indicators or a derived value, number format)
ITEM_MEASURES: dict[str, tuple[str, str]] = {
    "n": ("n", "integer"),
    "headline": ("headline_pct", "percent"),
    "ci_low": ("ci_low", "number0"),
    "ci_high": ("ci_high", "number0"),
    "top2": ("top2_pct", "percent"),
    "top3": ("top3_pct", "percent"),
    "mean": ("mean_score", "decimal1"),
    "change": ("headline_diff", "signed0"),
    "figure": ("figure", "integer"),
}
CATEGORY_MEASURES = {"n": "integer", "pct": "percent"}
WAVE_FIELDS = {
    "invited": "integer",
    "complete": "integer",
    "partial": "integer",
    "response_rate": "percent",
    "fielded": "date",
    "label": "text",
}


class PlaceholderError(ValueError):
    """A placeholder that cannot be filled: the message says why (without the place and the allowed names: the
    prose reader adds file and line, and Placeholders.allowed() once)."""


@dataclass(frozen=True)
class Value:
    """A filled placeholder: its text, and why the public profile hides it (None: shown)."""

    text: str
    hidden: str | None = None


class Placeholders:
    """Fills placeholders from the marts of a ReportData (+ marts.wave_change for `change`); `figures`: item code →
    the number of its figure in the document."""

    def __init__(self, data: ReportData, wave_change: pl.DataFrame, figures: dict[str, int]) -> None:
        self.data = data
        self.codebook = data.codebook
        self.public = data.profile == "public"
        self.figures = figures
        self.default_wave = newest_wave(data.waves)
        self.waves = {w["wave"]: w for w in data.waves.iter_rows(named=True)}
        self.indicators = {(r["wave"], r["item"]): r for r in data.indicators.iter_rows(named=True)}
        self.change = {(r["wave_to"], r["item"]): r for r in wave_change.iter_rows(named=True)}
        self.items = [i.code for i in self.codebook.closed_items()]

    def allowed(self) -> str:
        """The names a placeholder may use, for error messages."""
        cats = "; ".join(
            f"{key}: {', '.join(c.key for c in scale.categories)}"
            for key, scale in self.codebook.scales.items()
            if not scale.is_text
        )
        return (
            "{{ <item>.<measure> }}, {{ <item>.<category>.n|pct }}, either with <wave>: in front for another wave "
            f"than the newest ({self.default_wave}), or {{{{ waves.<wave>.<field> }}}}. "
            f"Items: {', '.join(self.items)}. Measures: {', '.join(ITEM_MEASURES)}. Categories ({cats}). "
            f"Waves: {', '.join(sorted(self.waves)) or '(none)'}. Wave fields: {', '.join(WAVE_FIELDS)}"
        )

    def fail(self, expr: str, why: str) -> PlaceholderError:
        return PlaceholderError(f"{{{{ {expr} }}}} {why}")

    def resolve(self, expr: str) -> Value:
        """The value a placeholder's text (between the braces) names."""
        expr = expr.strip()
        wave = self.default_wave
        body = expr
        prefixed = ":" in expr
        if prefixed:
            wave, body = (part.strip() for part in expr.split(":", 1))
            if wave not in self.waves:
                raise self.fail(expr, f"names no wave {wave!r}")
        parts = body.split(".")
        if parts[0] == "waves":
            if prefixed or len(parts) != 3:
                raise self.fail(expr, "names no wave field: write waves.<wave>.<field>")
            return self.wave_value(expr, parts[1], parts[2])
        if wave is None:
            raise self.fail(expr, "has no wave to take the value from: the marts hold none")
        item = parts[0]
        if item not in self.codebook.items:
            raise self.fail(expr, f"names no item {item!r}")
        if item not in self.items:
            raise self.fail(expr, f"names the free-text item {item!r}, which has no numbers")
        if len(parts) == 2:
            return self.item_value(expr, wave, item, parts[1])
        if len(parts) == 3:
            return self.category_value(expr, wave, item, parts[1], parts[2])
        raise self.fail(expr, "names no measure: write <item>.<measure> or <item>.<category>.n|pct")

    def _format(self, value: object, number: str) -> str:
        return format_values([value], number, self.data.lang)[0] or ""

    def item_value(self, expr: str, wave: str, item: str, measure: str) -> Value:
        if measure not in ITEM_MEASURES:
            raise self.fail(expr, f"names no measure {measure!r} of an item")
        column, number = ITEM_MEASURES[measure]
        if measure == "figure":
            if item not in self.figures:
                raise self.fail(
                    expr,
                    f"names a figure of {item}, which the document has none of (the codebook "
                    "gives it no figure number)",
                )
            return Value(str(self.figures[item]))
        view = self.data.views.get((wave, item))
        row = self.indicators.get((wave, item))
        if view is None or row is None:
            raise self.fail(expr, f"names item {item}, which has no answers in wave {wave}")
        hidden = None
        if view.n_hidden:
            hidden = "the item's n is below the smallest count shown"
        if measure == "change":
            change = self.change.get((wave, item))
            if change is None or change["headline_diff"] is None:
                raise self.fail(
                    expr, f"names the change of {item} into wave {wave}, which has no previous wave with answers to it"
                )
            before = self.data.views.get((change["wave_from"], item))
            if hidden is None and (
                view.headline_hidden or (before is not None and (before.n_hidden or before.headline_hidden))
            ):
                hidden = "the change is built on a hidden count"
            value = change["headline_diff"]
        else:
            if hidden is None:
                flag = {
                    "headline": view.headline_hidden,
                    "ci_low": view.headline_hidden,
                    "ci_high": view.headline_hidden,
                    "top2": view.top2_hidden,
                    "top3": view.top3_hidden,
                    "mean": view.mean_hidden,
                }.get(measure, False)
                if flag:
                    hidden = f"the {measure} is built on a hidden count"
            value = row[column]
            if value is None:
                raise self.fail(
                    expr,
                    f"names the {measure} of {item}, which it has none of (scale {self.codebook.items[item].scale})",
                )
        return Value(self._format(value, number), hidden if self.public else None)

    def category_value(self, expr: str, wave: str, item: str, category: str, measure: str) -> Value:
        scale = self.codebook.scale_of(item)
        if category not in {c.key for c in scale.categories}:
            hint = f" ({category} is a measure: write {item}.{category})" if category in ITEM_MEASURES else ""
            raise self.fail(expr, f"names no category {category!r} of {item} (scale {scale.key}){hint}")
        if measure not in CATEGORY_MEASURES:
            raise self.fail(expr, f"names no measure {measure!r} of a category: use n or pct")
        view = self.data.views.get((wave, item))
        if view is None:
            raise self.fail(expr, f"names item {item}, which has no answers in wave {wave}")
        cell = next(c for c in view.cells if c.category == category)
        hidden = None
        if view.n_hidden or cell.hidden:
            hidden = "the count is below the smallest count shown, or would reveal one that is"
        value = cell.n if measure == "n" else cell.pct
        if value is None:
            raise self.fail(expr, f"names the share of {category} of {item}, which has no base in wave {wave}")
        return Value(self._format(value, CATEGORY_MEASURES[measure]), hidden if self.public else None)

    def wave_value(self, expr: str, wave: str, field: str) -> Value:
        if wave not in self.waves:
            raise self.fail(expr, f"names no wave {wave!r}")
        if field not in WAVE_FIELDS:
            raise self.fail(expr, f"names no wave field {field!r}")
        row = self.waves[wave]
        value = row[field]
        if value is None:
            raise self.fail(expr, f"names the {field} of wave {wave}, which it has none of")
        hidden = None
        min_cell = self.data.min_cell
        if field in ("complete", "response_rate") and count_hidden(
            row["complete"], profile=self.data.profile, min_cell=min_cell
        ):
            hidden = f"fewer than {min_cell} complete responses"
        if field == "partial" and count_hidden(row["partial"], profile=self.data.profile, min_cell=min_cell):
            hidden = f"fewer than {min_cell} partial responses"
        number = WAVE_FIELDS[field]
        if number == "date":
            text = value.isoformat()
        elif number == "text":
            text = str(value)
        else:
            text = self._format(value, number)
        return Value(text, hidden)

    def fill(self, text: str) -> tuple[str, list[tuple[str, Value]]]:
        """The text with every placeholder filled, and each placeholder's text with its value (in order).
        Raises PlaceholderError at the first that cannot be filled."""
        found: list[tuple[str, Value]] = []

        def one(match: re.Match) -> str:
            value = self.resolve(match.group(1))
            found.append((match.group(1).strip(), value))
            return value.text

        return PLACEHOLDER.sub(one, text), found
