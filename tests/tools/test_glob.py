"""glob: documents by doc_id pattern, with catalog metadata, newest period first."""

from __future__ import annotations

import pytest

from corpus.text import PagedText
from tools import REGISTRY
from tools.context import ToolContext, use_context
from tools.errors import ToolError
from tools.glob import GlobResult, glob
from tools.settings import ToolSettings


def run(context: ToolContext, pattern: str) -> GlobResult:
    with use_context(context):
        return glob(pattern)


def ids(result: GlobResult) -> list[str]:
    return [r.doc_id for r in result.rows]


def test_rows_carry_catalog_metadata_newest_first(tool_context):
    result = run(tool_context, "ACME_*")
    assert ids(result) == ["ACME_2022_10K", "ACME_2021_10K"] and result.total == 2
    row = result.rows[0]
    doc = tool_context.corpus.get("ACME_2022_10K")
    assert (row.company, row.form_type, row.pages, row.tokens) == (doc.company, "10-K", 6, doc.token_estimate)
    text = result.render()
    assert text.splitlines()[0] == "2 documents match 'ACME_*' (newest period first)"
    assert (
        f"- ACME_2022_10K | {doc.company} | 10-K | FY2022 (ended 2022-12-31) | 6 pages | ~{doc.token_estimate:,} tokens" in text
    )
    assert result.citations() == []


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("**/ACME_*10K*", ["ACME_2022_10K", "ACME_2021_10K"]),
        ("*2022*", ["ACME_2022_10K", "GLOBEX_2022_10K"]),
        ("globex_*", ["GLOBEX_2022_10K"]),
        ("GLOBEX_*.txt", ["GLOBEX_2022_10K"]),
        ("{BIGCO,GLOBEX}_202[23]_10K", ["BIGCO_2023_10K", "GLOBEX_2022_10K"]),
        ("ACME_202?_10K", ["ACME_2022_10K", "ACME_2021_10K"]),
        ("*", ["BIGCO_2023_10K", "ACME_2022_10K", "GLOBEX_2022_10K", "ACME_2021_10K"]),
    ],
)
def test_patterns(tool_context, pattern, expected):
    assert ids(run(tool_context, pattern)) == expected


def test_long_lists_are_capped_with_a_count_of_the_rest(shared_corpus):
    result = run(ToolContext(shared_corpus, settings=ToolSettings(list_max_results=2)), "*")
    assert len(result.rows) == 2 and result.total == 4
    assert (
        result.render().splitlines()[0]
        == "4 documents match '*' (newest period first); showing 2, 2 more not shown: narrow the pattern to see them"
    )


def test_no_match_lists_companies_and_close_doc_ids(tool_context):
    with use_context(tool_context), pytest.raises(ToolError) as caught:
        glob("ACME_2023_10K")
    message = str(caught.value)
    assert message.startswith("No document matches 'ACME_2023_10K'. Closest doc_ids: ACME_2022_10K")
    assert "companies: ACME, BIGCO, GLOBEX" in message and "Try 'ACME_*'" in message


def test_a_stored_text_without_a_catalog_row_is_still_listed(own_corpus):
    own_corpus.store.write("LATE_2024_10K", PagedText.from_pages(["FORM 10-K", "Late filing text."]), "hash")
    result = run(ToolContext(own_corpus), "LATE_*")
    assert ids(result) == ["LATE_2024_10K"]
    assert result.render().splitlines()[1].startswith("- LATE_2024_10K | ? | ? | ? | 2 pages | ~")


def test_calls_through_the_registry(tool_context):
    schema = REGISTRY.get("glob").schema()["function"]
    assert schema["parameters"]["required"] == ["pattern"] and schema["parameters"]["properties"]["pattern"]["description"]
    call = REGISTRY.call("glob", {"pattern": "**/GLOBEX_*"}, tool_context)
    assert call.ok and call.text.startswith("1 document matches '**/GLOBEX_*'") and call.citations == []
    call = REGISTRY.call("glob", {"pattern": "INITECH_*"}, tool_context)
    assert not call.ok and call.text.startswith("Error: No document matches 'INITECH_*'")
    call = REGISTRY.call("glob", {}, tool_context)
    assert not call.ok and "pattern" in call.text
