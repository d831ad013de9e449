import time

from corpus.extract import extract
from corpus.html import html_pages

XBRL_HEAD = """<?xml version="1.0" encoding="utf-8"?>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:ix="http://www.xbrl.org/2013/inlineXBRL">
<head><title>aapl-20230701</title><style>.x { color: red }</style><script>var hidden = 1;</script></head>
<body>
<div style="display:none"><ix:header><ix:hidden><ix:nonNumeric name="dei:AmendmentFlag">false</ix:nonNumeric>
</ix:hidden><ix:resources>CONTEXT-SECRET</ix:resources></ix:header></div>
"""


def test_hr_and_div_page_breaks_split_pages():
    doc = (
        XBRL_HEAD
        + "<div><p>UNITED STATES</p><p>FORM 10-K</p></div>"
        + '<hr style="page-break-after:always"/>'
        + "<p>Table of Contents</p>"
        + '<div style="break-before: page"><p>PART I</p></div>'
        + '<div style="PAGE-BREAK-BEFORE: ALWAYS">Item 1. Business</div>'
        + "</body></html>"
    )
    assert html_pages(doc) == ["UNITED STATES\nFORM 10-K", "Table of Contents", "PART I", "Item 1. Business"]


def test_page_breaks_and_hiding_from_stylesheet_classes():
    doc = """<html><head><style>p { margin: 0 } .pb, div.brk { page-break-after: always } .hide { display: none }
    .outer .x { display: none }</style>
    </head><body><p>one</p><div class="x pb"></div><p>two</p><p class="hide">hidden</p><div class="brk"></div>
    <p class="x">three</p></body></html>"""
    assert html_pages(doc) == ["one", "two", "three"]


def test_no_page_breaks_is_one_page_and_hidden_parts_are_dropped():
    doc = XBRL_HEAD + "<p>First</p><p>Second</p></body></html>"
    pages = html_pages(doc)
    assert pages == ["First\nSecond"]
    for hidden in ("false", "CONTEXT-SECRET", "aapl-20230701", "color", "hidden = 1"):
        assert hidden not in pages[0]


def test_display_none_anywhere_is_hidden():
    doc = '<body><p>Shown</p><span style="color:red; display : none">secret</span><p>Also shown</p></body>'
    assert html_pages(doc) == ["Shown\nAlso shown"]


def test_nested_inline_tags_and_inline_xbrl_stay_on_one_line():
    doc = (
        XBRL_HEAD
        + '<p><span style="font-weight:bold">Net <i>sales</i></span> were $<ix:nonFraction name="us-gaap:Revenues" '
        + 'contextRef="c1" unitRef="usd" decimals="-6" scale="6"><b>81,797</b></ix:nonFraction> million'
        + "<sup>(1)</sup>.</p></body></html>"
    )
    assert html_pages(doc) == ["Net sales were $81,797 million(1)."]


def test_block_elements_and_br_break_lines():
    doc = "<body><h2>Item 7.</h2><div>Overview<br/>Results</div><ul><li>one</li><li>two</li></ul>tail text</body>"
    assert html_pages(doc) == ["Item 7.\nOverview\nResults\none\ntwo\ntail text"]


def test_entities_are_decoded_and_whitespace_collapsed():
    doc = "<body><p>AT&amp;T&#8217;s   revenue&nbsp;&nbsp;grew\n\t 5&#160;%  &mdash; &lt;fast&gt;</p></body>"
    assert html_pages(doc) == ["AT&T\u2019s revenue grew 5 % \u2014 <fast>"]


def test_table_rows_join_cells_and_keep_dollar_and_parenthesis_attached():
    doc = """<body><table>
    <tr><td></td><td colspan="3">Year Ended</td></tr>
    <tr><td><p>Net revenue</p></td><td>$</td><td>1,577</td><td>&#160;</td><td>$</td><td>1,402</td></tr>
    <tr><td>Other income (expense)</td><td></td><td>(12</td><td>)</td><td>(3 )</td></tr>
    <tr><td>Margin</td><td>41.2</td><td>%</td><td>$ 7</td></tr>
    </table><p>After table</p></body>"""
    assert html_pages(doc) == [
        "Year Ended\nNet revenue | $1,577 | $1,402\nOther income (expense) | (12) | (3)\nMargin | 41.2% | $7\nAfter table"
    ]


def test_blocks_inside_cells_and_nested_tables_stay_in_their_row():
    doc = """<body><table><tr>
    <td><div>Cost of</div><div>sales</div></td>
    <td><table><tr><td>inner</td><td>cell</td></tr></table></td>
    <td>9</td></tr></table></body>"""
    assert html_pages(doc) == ["Cost of sales | inner cell | 9"]


def test_malformed_html_does_not_raise():
    odd = ("", "   ", "<", "<p>unclosed <b>bold", "<table><tr><td>a<td>b</table>", "<td>orphan</td>", "</div></p>x")
    odd += ("<?xml version='1.0'?>", "<ix:header><p>only hidden</p></ix:header>")
    for doc in odd:
        pages = html_pages(doc)
        assert isinstance(pages, list) and pages and all(isinstance(p, str) for p in pages)
    assert html_pages("<table><tr><td>a<td>b</table>") == ["a | b"]
    assert html_pages("<p>unclosed <b>bold") == ["unclosed bold"]


def test_five_megabyte_filing_is_fast():
    row = (
        "<tr><td><div><span>Net revenue</span></div></td><td><span>$</span></td><td><span>"
        '<ix:nonFraction name="us-gaap:Revenues" contextRef="c1" unitRef="usd">1,577</ix:nonFraction></span></td>'
        "<td>&#160;</td><td>(12</td><td>)</td></tr>\n"
    )
    para = '<div style="margin-top:6pt"><span style="font-size:10pt">Revenue increased on volume &amp; price.</span></div>\n'
    page = "<div>" + para * 20 + "<table>" + row * 40 + '</table></div><hr style="page-break-after:always"/>\n'
    doc = XBRL_HEAD + page * 450 + "</body></html>"
    assert len(doc) > 5_000_000
    started = time.perf_counter()
    pages = html_pages(doc)
    assert time.perf_counter() - started < 30.0  # ~1-2 s idle; catches quadratic parsing (minutes), not a loaded machine
    assert len(pages) == 450
    assert pages[0].split("\n")[-1] == "Net revenue | $1,577 | (12)"


def test_extract_reads_an_htm_filing(tmp_path):
    doc = (
        XBRL_HEAD
        + "<p>UNITED STATES SECURITIES AND EXCHANGE COMMISSION</p><p>FORM 10-Q</p>"
        + '<div style="page-break-after: always"></div>'
        + "<table><tr><td>Total assets</td><td>$</td><td>27,838</td></tr></table>"
        + "</body></html>"
    )
    path = tmp_path / "adbe-20230602.htm"
    path.write_text(doc, encoding="utf-8")
    result = extract(path)
    assert result.format == "html"
    assert result.pages == ["UNITED STATES SECURITIES AND EXCHANGE COMMISSION\nFORM 10-Q", "Total assets | $27,838"]
