"""The analyst's own text: Markdown files per language under the report folder (PIPELINE_REPORT_DIR, default
`report/`), each with its place in the document:

    report/<lang>/summary.md        opens the summary chapter (before the overview table)
    report/<lang>/introduction.md   the introduction chapter
    report/<lang>/<level>.md        opens the generated chapter of that level (personal.md, … the codebook's keys)
    report/<lang>/discussion.md     the discussion chapter, after the levels

None is required: a missing file leaves its place out (a chapter made only of prose is left out with it). Any other
.md file in the folder stops the build (a misspelt name would otherwise be ignored without a word).

Markdown: paragraphs, `#`/`##` headings (sections of the chapter the file belongs to), `-`/`1.` lists, `>` quotations,
*emphasis*, **strong** and `code`; other syntax shows as its text. Numbers are `{{ … }}` placeholders
(pipeline.reports.document.placeholders), filled line by line before the Markdown is read, so an error names the
file and line.
"""

from __future__ import annotations

from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

from pipeline.codebook import Codebook
from pipeline.reports.document.model import Block, BulletList, Heading, Paragraph, Quote, Run
from pipeline.reports.document.placeholders import PlaceholderError, Placeholders
from pipeline.settings import PROJECT_ROOT


class ProseError(ValueError):
    """The analyst's text cannot be used: every problem with its file and line, and what to do."""


def places(codebook: Codebook) -> tuple[str, ...]:
    """The places prose can take, in document order: summary, introduction, each level, discussion."""
    return ("summary", "introduction", *codebook.levels, "discussion")


def shown_path(path: Path) -> str:
    """A path as messages show it: relative to the project when it is in it."""
    try:
        return path.resolve().relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return str(path)


def prose_files(folder: Path, lang: str, codebook: Codebook) -> dict[str, Path]:
    """place → its file in <folder>/<lang>/, for the files there are. An .md file that is no place is an error."""
    lang_dir = folder / lang
    if not lang_dir.is_dir():
        return {}
    allowed = places(codebook)
    found: dict[str, Path] = {}
    wrong = []
    for path in sorted(lang_dir.glob("*.md")):
        if path.stem in allowed:
            found[path.stem] = path
        else:
            wrong.append(
                f"{shown_path(path)}: not a place of the document; name it one of "
                f"{', '.join(p + '.md' for p in allowed)}"
            )
    if wrong:
        raise ProseError("\n".join(wrong))
    return found


def fill_lines(path: Path, text: str, values: Placeholders) -> tuple[str, list[str], list[str]]:
    """The text with its placeholders filled, the problems (file:line: …) of those that cannot be filled, and of
    those that the public profile hides."""
    out, problems, hidden = [], [], []
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            filled, found = values.fill(line)
        except PlaceholderError as exc:
            problems.append(f"{shown_path(path)}:{number}: {exc}")
            out.append(line)
            continue
        for expr, value in found:
            if value.hidden:
                hidden.append(
                    f"{shown_path(path)}:{number}: {{{{ {expr} }}}} is hidden in the public profile ({value.hidden}): "
                    "write the sentence without it, or build the internal profile (PIPELINE_PROFILE=internal)"
                )
        out.append(filled)
    return "\n".join(out) + "\n", problems, hidden


def _parser() -> MarkdownIt:
    return MarkdownIt("zero").enable(
        ["heading", "list", "blockquote", "emphasis", "backticks", "newline", "escape", "paragraph"]
    )


def inline_runs(token: Token) -> tuple[Run, ...]:
    """The runs of an inline token (emphasis, strong, code; line breaks as spaces)."""
    runs: list[Run] = []
    bold = italic = 0
    for child in token.children or []:
        if child.type == "strong_open":
            bold += 1
        elif child.type == "strong_close":
            bold -= 1
        elif child.type == "em_open":
            italic += 1
        elif child.type == "em_close":
            italic -= 1
        elif child.type == "code_inline":
            runs.append(Run(child.content, code=True))
        elif child.type in ("softbreak", "hardbreak"):
            runs.append(Run(" ", bool(bold), bool(italic)))
        elif child.content:
            runs.append(Run(child.content, bool(bold), bool(italic)))
    merged: list[Run] = []
    for run in runs:  # neighbours of one style as one run
        if merged and (merged[-1].bold, merged[-1].italic, merged[-1].code) == (run.bold, run.italic, run.code):
            merged[-1] = Run(merged[-1].text + run.text, run.bold, run.italic, run.code)
        else:
            merged.append(run)
    return tuple(merged)


def markdown_blocks(text: str) -> list[Block]:
    """Markdown → blocks: headings one level below the chapter's (# → 2, ## and deeper → 3)."""
    tokens = _parser().parse(text)
    blocks: list[Block] = []
    quote = 0
    list_items: list[tuple[Run, ...]] | None = None
    ordered = False
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open":
            level = min(3, int(tok.tag[1:]) + 1)
            blocks.append(Heading("".join(r.text for r in inline_runs(tokens[i + 1])), level))
        elif tok.type in ("bullet_list_open", "ordered_list_open") and list_items is None:
            list_items, ordered = [], tok.type == "ordered_list_open"
        elif tok.type in ("bullet_list_close", "ordered_list_close") and tok.level == 0 and list_items is not None:
            blocks.append(BulletList(tuple(list_items), ordered))
            list_items = None
        elif tok.type == "blockquote_open":
            quote += 1
        elif tok.type == "blockquote_close":
            quote -= 1
        elif tok.type == "inline" and tokens[i - 1].type != "heading_open":
            runs = inline_runs(tok)
            if not runs:
                continue
            if list_items is not None:
                list_items.append(runs)
            elif quote:
                blocks.append(Quote(runs))
            else:
                blocks.append(Paragraph(runs))
    return blocks


def read_prose(folder: Path, lang: str, codebook: Codebook, values: Placeholders) -> dict[str, list[Block]]:
    """place → the blocks of its prose (places without a file are not in it). Raises ProseError naming every
    placeholder that cannot be filled, or that the public profile hides, with its file and line."""
    files = prose_files(folder, lang, codebook)
    out: dict[str, list[Block]] = {}
    problems: list[str] = []
    hidden: list[str] = []
    for place, path in files.items():
        filled, wrong, secret = fill_lines(path, path.read_text(encoding="utf-8"), values)
        problems += wrong
        hidden += secret
        out[place] = markdown_blocks(filled)
    if problems or hidden:
        allowed = [f"Allowed: {values.allowed()}"] if problems else []
        raise ProseError("\n".join(["the report's text cannot be used:", *problems, *hidden, *allowed]))
    return out
