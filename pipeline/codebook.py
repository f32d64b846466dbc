"""The codebook (schemas/codebook.yaml): levels, scales, items and labels, loaded once and checked.

Everything the pipeline knows about items comes from here. Identifiers that reach SQL (item codes, level
keys, category keys) are checked against IDENTIFIER before anything else uses them.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pipeline.files import parse_yaml

IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}\Z")
LANGUAGES = ("nb", "da", "en")


class CodebookError(ValueError):
    """The codebook file is not usable; the message names the key and what to fix."""


def normalise_text(value: str) -> str:
    """The matching form of a header or label: NFC, trimmed, whitespace collapsed, case-folded."""
    return " ".join(unicodedata.normalize("NFC", value).split()).casefold()


@dataclass(frozen=True)
class Category:
    key: str
    order: int
    code: int
    score: int | None
    top2: bool
    top3: bool
    headline: bool
    label: dict[str, str]


@dataclass(frozen=True)
class Scale:
    key: str
    label: dict[str, str]
    categories: tuple[Category, ...]

    @property
    def is_text(self) -> bool:
        return not self.categories


@dataclass(frozen=True)
class Item:
    code: str
    order: int
    level: str
    scale: str
    figure: int | None
    question: dict[str, str]
    aliases: tuple[str, ...] = ()


NOT_STATED = "not_stated"  # the group of a respondent whose background cell is blank (or matches no group)
ALL_GROUPS = "all"  # the all-respondents row of a breakdown


@dataclass(frozen=True)
class Background:
    """A background variable (role, library size, …): who answered, for breakdowns by group. Its groups are
    Category objects (key, order, code, label; no score or headline); NOT_STATED follows them."""

    key: str
    order: int
    label: dict[str, str]
    question: dict[str, str]
    aliases: tuple[str, ...]
    public: bool
    groups: tuple[Category, ...]

    def group_lookup(self, codes: bool = True) -> dict[str, str]:
        """Normalised label (any language) / key / code → group key; codes=False leaves the codes out (a wave.yaml
        `values:` map of the variable says what its codes mean)."""
        out = {}
        for g in self.groups:
            for word in (g.key, *g.label.values(), *((str(g.code),) if codes else ())):
                out[normalise_text(word)] = g.key
        return out


@dataclass(frozen=True)
class Level:
    key: str
    order: int
    label: dict[str, str]
    description: dict[str, str]


@dataclass(frozen=True)
class Codebook:
    path: Path
    sha256: str
    title: dict[str, str]
    levels: dict[str, Level]
    scales: dict[str, Scale]
    items: dict[str, Item]
    metadata_roles: dict[str, tuple[str, ...]]
    personal_data_headers: tuple[str, ...]
    status_values: dict[str, tuple[str, ...]]
    small_n_below: int
    z: float
    ui: dict[str, dict[str, str]]
    background: dict[str, Background] = field(default_factory=dict)
    _label_index: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)

    @property
    def alpha(self) -> float:
        """The two-sided error rate of the intervals, from z (0.05 for z = 1.96): for t intervals."""
        return math.erfc(self.z / math.sqrt(2))

    # Lookups ---------------------------------------------------------------------------------
    def word(self, key: str, lang: str, **fmt: object) -> str:
        """A word of the reports from the ui section, in `lang`, with {placeholders} filled in."""
        return self.ui[key][lang].format(**fmt)

    def scale_of(self, item: str) -> Scale:
        return self.scales[self.items[item].scale]

    def closed_items(self) -> list[Item]:
        return [i for i in self.items.values() if not self.scales[i.scale].is_text]

    def text_items(self) -> list[Item]:
        return [i for i in self.items.values() if self.scales[i.scale].is_text]

    def items_of_level(self, level: str) -> list[Item]:
        return [i for i in self.items.values() if i.level == level]

    def category_lookup(self, scale: str, codes: bool = True) -> dict[str, str]:
        """Normalised label / key / default code → category key, for one scale. codes=False leaves the
        default codes out (a wave.yaml `values:` map of the scale says what its codes mean)."""
        if codes:
            return self._label_index[scale]
        return {normalise_text(w): c.key for c in self.scales[scale].categories for w in (c.key, *c.label.values())}

    def header_lookup(self) -> dict[str, str]:
        """Normalised question text (any language) / alias → item code. Item codes are not in it: a code
        matches a header only exactly (see `item_of_code`), since tools name their own columns V1, Q3, v3…"""
        out: dict[str, str] = {}
        for item in self.items.values():
            for text in (*item.question.values(), *item.aliases):
                out.setdefault(normalise_text(text), item.code)
        return out

    def item_of_code(self, header: str) -> str | None:
        """The item whose code is exactly this header (case and all, surrounding spaces aside), else None."""
        code = header.strip()
        return code if code in self.items else None

    def background_lookup(self) -> dict[str, str]:
        """Normalised question text (any language) / alias → background variable key (keys match exactly,
        see `background_of_code`)."""
        out: dict[str, str] = {}
        for var in self.background.values():
            for text in (*var.question.values(), *var.aliases):
                out.setdefault(normalise_text(text), var.key)
        return out

    def background_of_code(self, header: str) -> str | None:
        """The background variable whose key is exactly this header (surrounding spaces aside), else None."""
        key = header.strip()
        return key if key in self.background else None

    def role_lookup(self) -> dict[str, str]:
        """Normalised metadata header → role (respondent_id, submitted_at, status)."""
        return {normalise_text(h): role for role, headers in self.metadata_roles.items() for h in headers}


def _require(mapping: dict, key: str, where: str):
    if not isinstance(mapping, dict) or key not in mapping:
        raise CodebookError(f"codebook: {where} needs the key {key!r}")
    return mapping[key]


def _check_identifier(value: object, where: str) -> str:
    if not isinstance(value, str) or not IDENTIFIER.match(value):
        raise CodebookError(
            f"codebook: {where} {value!r} is not a valid key: use letters, digits and _ (starting with a letter)"
        )
    return value


def _labels(value: object, where: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise CodebookError(f"codebook: {where} must map languages ({', '.join(LANGUAGES)}) to text")
    missing = [lang for lang in LANGUAGES if not isinstance(value.get(lang), str) or not value[lang].strip()]
    if missing:
        raise CodebookError(f"codebook: {where} lacks text for {', '.join(missing)}")
    return {lang: unicodedata.normalize("NFC", value[lang]) for lang in LANGUAGES}


def parse_codebook(text: str, path: Path) -> Codebook:
    sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()  # of the file as written
    try:
        raw = parse_yaml(text)
    except yaml.YAMLError as exc:
        raise CodebookError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise CodebookError(f"{path}: expected a mapping at the top")

    levels = {}
    for key, spec in (_require(raw, "levels", "the top") or {}).items():
        _check_identifier(key, "level")
        levels[key] = Level(
            key=key,
            order=int(_require(spec, "order", f"level {key}")),
            label=_labels(_require(spec, "label", f"level {key}"), f"level {key} label"),
            description=_labels(_require(spec, "description", f"level {key}"), f"level {key} description"),
        )

    scales = {}
    label_index: dict[str, dict[str, str]] = {}
    for key, spec in (_require(raw, "scales", "the top") or {}).items():
        _check_identifier(key, "scale")
        cats = []
        index: dict[str, str] = {}
        for order, (ckey, cspec) in enumerate((spec.get("categories") or {}).items(), start=1):
            _check_identifier(ckey, f"scale {key} category")
            cat = Category(
                key=ckey,
                order=order,
                code=int(_require(cspec, "code", f"category {key}.{ckey}")),
                score=cspec.get("score"),
                top2=bool(cspec.get("top2", False)),
                top3=bool(cspec.get("top3", False)),
                headline=bool(cspec.get("headline", False)),
                label=_labels(_require(cspec, "label", f"category {key}.{ckey}"), f"category {key}.{ckey} label"),
            )
            cats.append(cat)
            for word in (ckey, str(cat.code), *cat.label.values()):
                norm = normalise_text(word)
                if index.get(norm, ckey) != ckey:
                    raise CodebookError(f"codebook: scale {key}: {word!r} would mean both {index[norm]} and {ckey}")
                index[norm] = ckey
        scales[key] = Scale(key=key, label=_labels(spec.get("label"), f"scale {key} label"), categories=tuple(cats))
        label_index[key] = index

    items = {}
    for order, (code, spec) in enumerate((_require(raw, "items", "the top") or {}).items(), start=1):
        _check_identifier(code, "item")
        level = _require(spec, "level", f"item {code}")
        scale = _require(spec, "scale", f"item {code}")
        if level not in levels:
            raise CodebookError(f"codebook: item {code} has level {level!r}; levels are {', '.join(levels)}")
        if scale not in scales:
            raise CodebookError(f"codebook: item {code} has scale {scale!r}; scales are {', '.join(scales)}")
        figure = spec.get("figure")
        items[code] = Item(
            code=code,
            order=order,
            level=level,
            scale=scale,
            figure=int(figure) if figure is not None else None,
            question=_labels(_require(spec, "question", f"item {code}"), f"item {code} question"),
            aliases=tuple(unicodedata.normalize("NFC", a) for a in spec.get("aliases", [])),
        )
    if not items:
        raise CodebookError(f"{path}: no items")

    seen: dict[str, str] = {}
    for item in items.values():
        for header in (item.code, *item.question.values(), *item.aliases):
            norm = normalise_text(header)
            if seen.get(norm, item.code) != item.code:
                raise CodebookError(f"codebook: header text {header!r} would mean both {seen[norm]} and {item.code}")
            seen[norm] = item.code

    background = {}
    for order, (key, spec) in enumerate((raw.get("background") or {}).items(), start=1):
        _check_identifier(key, "background variable")
        if key in items or key in levels:
            raise CodebookError(f"codebook: background variable {key!r} has the name of an item or a level")
        groups = []
        index: dict[str, str] = {}
        for gorder, (gkey, gspec) in enumerate((_require(spec, "groups", f"background {key}") or {}).items(), start=1):
            _check_identifier(gkey, f"background {key} group")
            if gkey in (NOT_STATED, ALL_GROUPS):
                raise CodebookError(f"codebook: background {key}: group {gkey!r} is reserved (added by the pipeline)")
            group = Category(
                key=gkey,
                order=gorder,
                code=int(_require(gspec, "code", f"group {key}.{gkey}")),
                score=None,
                top2=False,
                top3=False,
                headline=False,
                label=_labels(_require(gspec, "label", f"group {key}.{gkey}"), f"group {key}.{gkey} label"),
            )
            for word in (gkey, str(group.code), *group.label.values()):
                norm = normalise_text(word)
                if index.get(norm, gkey) != gkey:
                    raise CodebookError(
                        f"codebook: background {key}: {word!r} would mean both {index[norm]} and {gkey}"
                    )
                index[norm] = gkey
            groups.append(group)
        public = spec.get("public", False)
        if not isinstance(public, bool):
            raise CodebookError(f"codebook: background {key}: public must be true or false")
        background[key] = Background(
            key=key,
            order=order,
            label=_labels(_require(spec, "label", f"background {key}"), f"background {key} label"),
            question=_labels(_require(spec, "question", f"background {key}"), f"background {key} question"),
            aliases=tuple(unicodedata.normalize("NFC", a) for a in spec.get("aliases", [])),
            public=public,
            groups=tuple(groups),
        )
        for header in (key, *background[key].question.values(), *background[key].aliases):
            norm = normalise_text(header)
            if seen.get(norm, key) != key:
                raise CodebookError(f"codebook: header text {header!r} would mean both {seen[norm]} and {key}")
            seen[norm] = key

    reporting = raw.get("reporting") or {}
    return Codebook(
        path=path,
        sha256=sha256,
        title=_labels(raw.get("title"), "title"),
        levels=dict(sorted(levels.items(), key=lambda kv: kv[1].order)),
        scales=scales,
        items=items,
        metadata_roles={role: tuple(h) for role, h in (raw.get("metadata_roles") or {}).items()},
        personal_data_headers=tuple(raw.get("personal_data_headers") or ()),
        status_values={k: tuple(str(v) for v in vals) for k, vals in (raw.get("status_values") or {}).items()},
        small_n_below=int(reporting.get("small_n_below", 30)),
        z=float(reporting.get("z", 1.959963984540054)),
        ui={key: _labels(text, f"ui {key}") for key, text in (raw.get("ui") or {}).items()},
        background=background,
        _label_index=label_index,
    )


@functools.lru_cache(maxsize=8)
def _load_cached(path: Path, mtime_ns: int) -> Codebook:
    return parse_codebook(path.read_text(encoding="utf-8"), path)


def load_codebook(path: Path) -> Codebook:
    """Read and check the codebook once per file version."""
    path = Path(path)
    if not path.is_file():
        raise CodebookError(f"codebook not found at {path}")
    return _load_cached(path, path.stat().st_mtime_ns)
