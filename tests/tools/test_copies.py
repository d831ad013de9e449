"""Search shows each passage once: a twin's copy and a table printed twice collapse, naming where the other copy is."""

from __future__ import annotations

from dataclasses import dataclass

from tools.caveats import Caveats
from tools.copies import collapse_copies

TABLE = "Net sales Aeronautics $26,748 $26,266 Missiles and Fire Control 11,693 11,257 Rotary and Mission Systems 16,789 15,995 Space 11,814 11,880 Total net sales $67,044 $65,398"


@dataclass
class P:
    doc_id: str
    start_line: int
    end_line: int
    text: str
    pages: str = "1"


@dataclass
class D:
    id: str
    content_hash: str
    accession: str | None = None
    form_type: str | None = "8-K"
    fiscal_year: int | None = 2022
    fiscal_period: str | None = None
    period_end_date: None = None


def test_a_table_printed_in_mdna_and_in_a_note_is_shown_once_with_the_other_place():
    note, mdna = (
        P("LMT_2021_10K", 3082, 3098, "Summary Operating Results " + TABLE, "82"),
        P("LMT_2021_10K", 1579, 1593, "Summary operating results " + TABLE, "41-42"),
    )
    other = P(
        "LMT_2021_10K",
        10,
        20,
        "Risk factors include competition for contracts, supply chain constraints and government budgets across all segments and programs.",
    )
    kept, also = collapse_copies([note, other, mdna], Caveats(), k=8)
    assert kept == [note, other] and also == [["same passage also at LMT_2021_10K p.41-42 lines 1579-1593; shown once"], []]


def test_prose_about_another_period_shares_words_not_figures_and_stays():
    q4 = P(
        "3M_2018_10K",
        1061,
        1070,
        "In Mexico total sales increased 1 percent or 5 percent organic; Brazil decreased 11 percent; translation decreased sales by 2.3 percent, prices rose 1.4 percent in the fourth quarter",
    )
    year = P(
        "3M_2018_10K",
        1107,
        1116,
        "In Mexico total sales increased 1 percent or 4 percent organic; Brazil decreased 8 percent; translation increased sales by 0.2 percent, prices rose 1.1 percent in the fourth quarter",
    )
    kept, _also = collapse_copies([q4, year], Caveats(), k=8)
    assert kept == [q4, year]


def test_twins_collapse_to_the_first_name_and_k_counts_distinct_passages():
    caveats = Caveats.of(
        [D("AMCOR_2022_8K_2022-07-01", "h1"), D("AMCOR_2022_8K_dated-2022-07-01", "h1"), D("OTHER_2022_8K", "h2")]
    )
    a = P("AMCOR_2022_8K_2022-07-01", 58, 63, "indenture text " * 3)
    a_twin = P("AMCOR_2022_8K_dated-2022-07-01", 58, 63, "indenture text " * 3)
    b = P("OTHER_2022_8K", 1, 5, "something else entirely")
    kept, also = collapse_copies([a, a_twin, b], caveats, k=1)
    assert kept == [a] and also == [["same passage also at AMCOR_2022_8K_dated-2022-07-01 (same file); shown once"]]


def test_twins_by_accession_and_by_bytes_form_one_filing_and_collapse_keeps_order():
    caveats = Caveats.of([D("A", "h1", "0001"), D("B", "h2", "0001"), D("C", "h2"), D("E", "h3")])
    assert caveats.names["A"] == ("A", "B", "C") and caveats.twins("C") == ["A", "B"]
    assert caveats.collapse(["C", "E", "A", "B"]) == (["C", "E"], {"C": ["A", "B"]})
    assert caveats.note("E") == "" and caveats.note("A") == "same file also named B, C"


def test_a_passage_whose_table_rows_were_shown_in_other_chunks_says_so():
    rows = [
        "Aeronautics | $5,862 | $6,666",
        "Missiles and Fire Control | 2,747 | 2,944",
        "Space | 2,825 | 3,177",
        "Total net sales | $15,446 | $17,029",
    ]
    first = P("LMT_2022Q2_10Q", 320, 331, "Note 3 segments\n" + "\n".join(rows[:2]) + "\nprose about the note and the segments")
    second = P("LMT_2022Q2_10Q", 332, 350, "\n".join(rows[2:]) + "\nOperating profit follows here in the note")
    mdna = P(
        "LMT_2022Q2_10Q",
        1375,
        1392,
        "Excluded items are included in the reconciling item between segment and consolidated profit.\n" + "\n".join(rows),
    )
    kept, notes = collapse_copies([first, second, mdna], Caveats(), k=8)
    assert kept == [first, second, mdna] and notes == [[], [], ["its table rows are also in passage [1], [2]"]]


def test_a_filing_joined_through_bytes_and_accession_keeps_every_name():
    # B shares A's accession and C's bytes; D shares C's bytes: one filing of four names, whatever the order
    docs = [D("C", "h2"), D("A", "h1", "0001"), D("D", "h2"), D("B", "h2", "0001"), D("E", "h3")]
    caveats = Caveats.of(docs)
    assert caveats.names["A"] == caveats.names["D"] == ("A", "B", "C", "D") and "E" not in caveats.names
