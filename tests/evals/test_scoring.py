"""The numeric verifier, yes/no and refusal detection on hand-written cases."""

from __future__ import annotations

import pytest

from evals.scoring import is_refusal, numeric_verdict, quantities, yes_no


@pytest.mark.parametrize(
    ("gold", "answer", "correct"),
    [
        ("$1577.00", "3M's FY2018 capital expenditure was $1,577 million.", True),  # unit stated on one side only
        ("$1,577 million", "about 1.577 billion dollars", True),  # different units
        ("$1,577 million", "$1.6 billion", False),  # rounded by 1.5%: outside the 1% tolerance
        ("$1,577 million", "$1,577 thousand", False),  # same digits, wrong unit
        ("65.4%", "Operating income grew 65.4 percent.", True),
        ("6.2%", "The average margin was 0.062.", True),  # a fraction for a percentage
        ("0.68", "The working capital ratio is 0.68.", True),
        ("24.26", "Fixed asset turnover: 24.3x", True),  # within 1%
        ("-$473 million", "Corporate's net revenue was -$473 million.", True),
        ("-$473 million", "Corporate's net revenue was ($473) million.", True),  # accounting negative
        ("-$473 million", "Corporate's net revenue was $473 million.", False),  # the sign matters
        ("0.62%", "The effective tax rate was 0.62% in FY2022 and -14.76% in FY2021.", True),
        ("$9068.00", "Unadjusted EBITDA less capex was $9,068 million in FY2022.", True),
        ("$382.00", "In 2020 the figure was 3,820 million.", False),
    ],
)
def test_numeric_verdicts(gold, answer, correct):
    verdict = numeric_verdict(gold, answer)
    assert verdict.applicable and verdict.correct is correct


def test_tolerance_is_a_setting():
    assert numeric_verdict("$1,577 million", "$1.6 billion", tolerance=0.02).correct


def test_years_and_names_are_not_figures():
    assert [q.raw for q in quantities("In FY2018 3M spent $1,577 million; see Note 12 (2017: 1,373)")] == [1577, 12, 1373]
    assert not numeric_verdict("Yes, it grew.", "Yes").applicable


def test_yes_no_and_refusals():
    assert (
        yes_no("Yes. Boeing's business is cyclical") == "yes" and yes_no("No, it decreased") == "no" and yes_no("Maybe") is None
    )
    assert is_refusal("The filing does not contain the segment breakdown.")
    assert is_refusal("I could not find the capital expenditure in the cash flow statement.")
    assert not is_refusal("Capital expenditure was $1,577 million.")
