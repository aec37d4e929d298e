"""The report's HTML: one self-contained page (inline CSS, no script, no network).

:func:`render` turns a :class:`Page` into text; every string from data (clip ids, genres,
paths) is escaped, every media path URL-quoted.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from urllib.parse import quote

__all__ = ["Figure", "ListenClip", "Page", "Player", "Table", "Walk", "render"]

_CSS = """
:root { --fg: #1d232b; --muted: #5b6673; --line: #d9dee4; --accent: #2b6cb0; --bg: #fbfcfd; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
       background: var(--bg); margin: 0; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 60px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 36px 0 8px; padding-top: 8px; border-top: 1px solid var(--line); }
h3 { font-size: 15px; margin: 16px 0 6px; }
p.note, .note { color: var(--muted); font-size: 13px; }
nav a { margin-right: 14px; color: var(--accent); text-decoration: none; font-size: 14px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 12px 0;
           font-size: 14px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; margin: 8px 0; font-size: 14px; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 10px; text-align: left; }
th { background: #eef2f6; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.wide { overflow-x: auto; max-width: 100%; }
.clips { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); gap: 16px; }
.clip { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; background: #fff; }
.clip h3 { margin-top: 0; }
.player { display: grid; grid-template-columns: 175px 1fr; align-items: center; gap: 8px;
          margin: 4px 0; font-size: 13px; }
.player audio { width: 100%; height: 32px; }
.figures { display: flex; flex-wrap: wrap; gap: 18px; }
figure { display: inline-block; margin: 0; background: #fff; border: 1px solid var(--line);
         border-radius: 8px; padding: 8px; }
figure img { display: block; max-width: 100%; height: auto; }
figcaption { font-size: 13px; color: var(--muted); margin-top: 4px; }
.walk audio { width: 100%; margin-top: 6px; }
code { font-size: 13px; background: #eef2f6; padding: 1px 4px; border-radius: 3px; }
"""


@dataclass
class Player:
    """An audio player: label, media path relative to the page, an optional note."""

    label: str
    src: str
    note: str = ""


@dataclass
class ListenClip:
    """One clip's players."""

    title: str
    subtitle: str
    players: list[Player]
    links: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Figure:
    """An image with a caption."""

    src: str
    alt: str
    caption: str = ""


@dataclass
class Walk:
    """An interpolation strip and the walk's audio."""

    title: str
    image: Figure
    audio: str


@dataclass
class Table:
    """A table: header cells and rows; numbers are right-aligned."""

    header: list[str]
    rows: list[list[str | float | int | None]]
    digits: int = 2


@dataclass
class Page:
    """Everything the page shows, section by section (empty sections say why in their note)."""

    title: str
    facts: list[tuple[str, str]]
    listen: list[ListenClip]
    listen_note: str
    compression: Table | None
    compression_note: str
    scatters: list[Figure]
    scatter_note: str
    confusion: Figure | None
    confusion_note: str
    history: Figure | None
    history_note: str
    walks: list[Walk]
    walk_note: str
    probe: Table | None
    probe_note: str
    compression_plot: Figure | None = None


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _src(path: str) -> str:
    return _e(quote(path, safe="/._-"))


def _cell(value: str | float | int | None, digits: int) -> str:
    if value is None:
        return '<td class="num">–</td>'
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"<td>{_e(value)}</td>"
    if isinstance(value, int):
        return f'<td class="num">{value:,}</td>'
    return f'<td class="num">{value:,.{digits}f}</td>'


def _table(table: Table) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in table.header)
    body = "".join(
        "<tr>" + "".join(_cell(v, table.digits) for v in row) + "</tr>" for row in table.rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure(fig: Figure) -> str:
    caption = f"<figcaption>{_e(fig.caption)}</figcaption>" if fig.caption else ""
    return f'<figure><img src="{_src(fig.src)}" alt="{_e(fig.alt)}">{caption}</figure>'


def _audio(src: str, label: str) -> str:
    return f'<audio controls preload="metadata" src="{_src(src)}" aria-label="{_e(label)}"></audio>'


def _note(text: str) -> str:
    return f'<p class="note">{_e(text)}</p>' if text else ""


def _listen(clips: list[ListenClip]) -> str:
    parts = []
    for clip in clips:
        players = "".join(
            f'<div class="player"><span title="{_e(p.note)}">{_e(p.label)}</span>'
            f"{_audio(p.src, clip.title + ': ' + p.label)}</div>"
            for p in clip.players
        )
        links = " ".join(f'<a href="{_src(href)}">{_e(text)}</a>' for text, href in clip.links)
        parts.append(
            f'<div class="clip"><h3>{_e(clip.title)}</h3><div class="note">{_e(clip.subtitle)}'
            f"</div>{players}{'<div class=note>' + links + '</div>' if links else ''}</div>"
        )
    return f'<div class="clips">{"".join(parts)}</div>'


def render(page: Page) -> str:
    """The page as HTML text."""
    facts = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in page.facts)
    sections = [
        ("listen", "Listen", _note(page.listen_note) + _listen(page.listen)),
        (
            "compression",
            "Compression",
            _note(page.compression_note)
            # The listener columns make the table wider than the page on a laptop screen.
            + (
                f'<div class="wide">{_table(page.compression)}</div>'
                if page.compression is not None
                else ""
            )
            + (_figure(page.compression_plot) if page.compression_plot is not None else ""),
        ),
        (
            "latents",
            "Latent space",
            _note(page.scatter_note)
            + f'<div class="figures">{"".join(_figure(f) for f in page.scatters)}</div>',
        ),
        (
            "genre",
            "Genre head",
            _note(page.confusion_note)
            + (_figure(page.confusion) if page.confusion is not None else ""),
        ),
        (
            "training",
            "Training",
            _note(page.history_note) + (_figure(page.history) if page.history is not None else ""),
        ),
        (
            "interpolation",
            "Interpolation",
            _note(page.walk_note)
            + "".join(
                f'<div class="walk"><h3>{_e(w.title)}</h3>{_figure(w.image)}'
                f"{_audio(w.audio, w.title)}</div>"
                for w in page.walks
            ),
        ),
        (
            "probe",
            "What the dimensions do",
            _note(page.probe_note) + (_table(page.probe) if page.probe is not None else ""),
        ),
    ]
    nav = "".join(f'<a href="#{key}">{_e(title)}</a>' for key, title, _ in sections)
    body = "".join(
        f'<section id="{key}"><h2>{_e(title)}</h2>{content}</section>'
        for key, title, content in sections
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # An empty icon keeps browsers from requesting /favicon.ico (a 404 in the console).
        '<link rel="icon" href="data:,">'
        f"<title>{_e(page.title)}</title><style>{_CSS}</style></head>"
        f"<body><main><h1>{_e(page.title)}</h1><nav>{nav}</nav>"
        f'<dl class="facts">{facts}</dl>{body}</main></body></html>\n'
    )
