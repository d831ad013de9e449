"""An export as PDF: HTML typeset by WeasyPrint (page-numbered, notes as endnotes, cited page images appended).

WeasyPrint, not a headless-Chromium print: it is a pip package (a few MB beside Pango, which Debian ships), so a fresh
`make run` needs no browser; it runs in the export process with no browser to start or keep alive, and the same HTML
gives the same PDF. It fetches nothing: the only resources it may load are the page images handed to it.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

from api.exports.content import Block, Content, Table
from api.exports.figures import unmark

PAGE_SCHEME = "sleuth-page:"
CSS = """
@page { size: A4; margin: 20mm 18mm 22mm;
  @bottom-center { content: "Page " counter(page) " of " counter(pages); font-size: 8.5pt; color: #555; }
  @top-right { content: string(doc-title); font-size: 8pt; color: #777; } }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 10pt; line-height: 1.4; color: #111; }
h1 { font-size: 17pt; margin: 0 0 6pt; string-set: doc-title content(); }
h2 { font-size: 13pt; margin: 14pt 0 4pt; border-bottom: 0.5pt solid #999; }
h3 { font-size: 11pt; margin: 10pt 0 3pt; } h4 { font-size: 10pt; }
dl.facts { display: grid; grid-template-columns: 22mm auto; gap: 1pt 4pt; font-size: 8.5pt; color: #333; margin: 0 0 8pt; }
dl.facts dt { font-weight: bold; } dl.facts dd { margin: 0; }
.notice { border-left: 2.5pt solid #b60; padding: 2pt 6pt; background: #fff6e8; margin: 4pt 0; }
.cut { border-left: 2.5pt solid #555; padding: 2pt 6pt; background: #f2f2f2; font-size: 8.5pt; }
table { border-collapse: collapse; margin: 4pt 0 10pt; min-width: 55%; font-size: 9pt; page-break-inside: auto; }
caption { caption-side: top; text-align: left; font-weight: bold; padding-bottom: 2pt; }
th, td { border: 0.5pt solid #999; padding: 2pt 5pt; vertical-align: top; } th { background: #eee; }
tr { page-break-inside: avoid; }
sup.ref { font-size: 7pt; } sup.ref a { color: #0645ad; text-decoration: none; }
ol.notes { font-size: 8.5pt; padding-left: 18pt; } ol.notes li { margin-bottom: 3pt; word-wrap: break-word; }
.verdict-ok { color: #185c18; } .verdict-bad { color: #a11; } .url { color: #444; font-size: 7.5pt; }
.page-image { page-break-before: always; text-align: center; }
.page-image img { max-width: 100%; max-height: 235mm; border: 0.5pt solid #aaa; }
code { font-size: 9pt; }
"""


def _ref(n: int) -> str:
    return f'<sup class="ref"><a href="#note-{n}">{n}</a></sup>'


def _markdown(text: str) -> str:
    """Markdown to HTML with raw HTML escaped (the model wrote it), markers turned into note links."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False}).enable("table").disable("image")  # a model's image would be fetched
    md.validateLink = lambda url: url.startswith(("http://", "https://", "#"))  # no file:, data: or other schemes
    return unmark(md.render(text), _ref)


def _cell(text: str) -> str:
    return unmark(html.escape(text), _ref)


def _table(table: Table) -> str:
    head = "".join(f"<th>{_cell(c)}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(c)}</td>" for c in row) + "</tr>" for row in table.rows)
    return f"<table><caption>{_cell(table.title)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _block(block: Block) -> str:
    out = []
    if block.heading:
        level = min(block.level + 1, 4)
        out.append(f"<h{level}>{html.escape(block.heading)}</h{level}>")
    if block.notice:
        out.append(f'<p class="notice">{html.escape(block.notice)}</p>')
    if block.text.strip():
        out.append(_markdown(block.text))
    if block.bullets:
        out.append("<ul>" + "".join(f"<li>{_cell(b)}</li>" for b in block.bullets) + "</ul>")
    out += [_table(t) for t in block.tables]
    return "\n".join(out)


def to_html(content: Content, images: Mapping[tuple[str, int], bytes] | None = None) -> str:
    """The export as one HTML page; page images are referenced as sleuth-page: URLs the PDF writer serves."""
    parts = [f"<h1>{html.escape(content.title)}</h1>", '<dl class="facts">']
    parts += [f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in content.facts] + ["</dl>"]
    parts += [f'<p class="cut">Note: {html.escape(c)}.</p>' for c in content.cuts]
    parts += [_block(b) for b in content.blocks]
    if content.notes:
        parts.append('<h2>Sources</h2><ol class="notes">')
        for n in content.notes:
            c = n.citation
            tone = "verdict-ok" if c.verified else "verdict-bad" if c.verified is False else ""
            quote = f" &ldquo;{html.escape(' '.join(c.quote.split()))}&rdquo;" if c.quote.strip() else ""
            parts.append(
                f'<li id="note-{n.number}" value="{n.number}"><b>{html.escape(n.label())}</b>{quote} '
                f'<span class="{tone}">({html.escape(n.verdict())})</span><br><span class="url">{html.escape(n.url)}</span></li>'
            )
        parts.append("</ol>")
    for i, (doc_id, page) in enumerate(content.pages):
        if images and (doc_id, page) in images:
            parts.append(
                f'<div class="page-image"><h3>{html.escape(doc_id)} p.{page}</h3>'
                f'<img src="{PAGE_SCHEME}{i}" alt="{html.escape(doc_id)} page {page}"></div>'
            )
    title = html.escape(content.title)
    return f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head><body>{"".join(parts)}</body></html>'


def to_pdf(content: Content, images: Mapping[tuple[str, int], bytes] | None = None) -> bytes:
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: Pango's libraries are missing
        raise RuntimeError(
            f"PDF export needs WeasyPrint and Pango ({exc}); pip install 'weasyprint==70.0' and apt-get install libpango-1.0-0 libpangoft2-1.0-0"
        ) from exc

    class PagesOnly(weasyprint.urls.URLFetcher):
        """Serves the page images handed over; refuses every other URL (nothing is fetched from the network or disk)."""

        def fetch(self, url: str, headers: object = None) -> weasyprint.urls.URLFetcherResponse:
            index = url.removeprefix(PAGE_SCHEME)
            if url.startswith(PAGE_SCHEME) and images and index.isdigit() and int(index) < len(content.pages):
                png = images.get(content.pages[int(index)])
                if png is not None:
                    return weasyprint.urls.URLFetcherResponse(url, png, {"Content-Type": "image/png"})
            raise ValueError(f"export PDFs load no outside resource: {url[:80]}")

    document = weasyprint.HTML(string=to_html(content, images), url_fetcher=PagesOnly(), base_url="sleuth:/")
    return document.write_pdf(stylesheets=[weasyprint.CSS(string=CSS)])
