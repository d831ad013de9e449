from corpus.clean import clean_page
from corpus.text import PagedText


def test_line_page_map_keeps_empty_pages():
    text = PagedText.from_pages(["a\nb", "", "c\nd\ne"])
    assert text.page_count == 3
    assert text.lines == ("a", "b", "", "c", "d", "e")
    assert [text.page_of_line(n) for n in range(1, 7)] == [1, 1, 2, 3, 3, 3]
    assert text.page_span(2) == (3, 3)
    assert text.page_text(3) == "c\nd\ne"
    assert text.text.endswith("e\n")


def test_clean_page_removes_controls_and_blank_runs():
    raw = "Revenue\x00 \x0c1,577\r\n \n\n\nNet \ufb01nance\u00a0cost\x7f"
    assert clean_page(raw) == "Revenue 1,577\n\nNet finance cost"
