"""A chat's messages read as a conversation, and a run's answer as the chat shows it (no server)."""

from __future__ import annotations

import pytest

from api.chat import ChatMessage, ChatProblem, answer_markdown, conversation, usage_of

THREAD = "0b6d3f4e-8a52-4c1e-9d3a-2f1e0c9b8a7d"


def messages(*pairs: tuple[str, object]) -> list[ChatMessage]:
    return [ChatMessage(role=role, content=content) for role, content in pairs]


def test_the_last_user_message_is_the_question_and_earlier_ones_are_exchanges():
    talk = conversation(
        messages(
            ("system", "Be brief."),
            ("assistant", "Hello! Ask me about filings."),  # before any question: no exchange
            ("user", "What was 3M's FY2018 capex?"),
            ("user", "In USD millions."),  # two in a row: one question
            ("assistant", f"<think>steps</think>$1,577 million.\n\n[Open](http://x/#/threads/{THREAD})"),
            ("tool", "ignored"),
            ("user", [{"type": "text", "text": "and in 2017?"}, {"type": "image_url", "image_url": {"url": "x"}}]),
        ),
        max_messages=100,
    )
    assert talk.question == "and in 2017?"
    assert [e.question for e in talk.earlier] == ["What was 3M's FY2018 capex?\n\nIn USD millions."]
    assert talk.earlier[0].answer.startswith("$1,577 million.") and "<think>" not in talk.earlier[0].answer
    assert talk.thread_hint == THREAD


@pytest.mark.parametrize(
    ("sent", "code"),
    [
        ([], "empty_messages"),
        ([("user", "q"), ("assistant", "a")], "last_message_not_user"),
        ([("system", "s")], "last_message_not_user"),
        ([("user", "   ")], "empty_question"),
        ([("user", "q")] * 5, "too_many_messages"),
    ],
)
def test_bad_conversations_are_refused_with_a_code(sent, code):
    with pytest.raises(ChatProblem) as refused:
        conversation(messages(*sent), max_messages=4)
    assert refused.value.code == code and refused.value.status == 400


def test_the_answer_has_numbered_footnotes_with_page_links_and_compare_numbers_across_arms():
    cite = {"doc_id": "3M_2018_10K", "page": 60, "quote": "(1,577)", "verified": True, "printed": "58"}
    answer = {
        "text": "$1,577 million.",
        "status": "answered",
        "citations": [cite],
        "metrics": {"prompt_tokens": 10, "completion_tokens": 2},
    }
    text = answer_markdown(answer, None, "answered", "http://h:8000", THREAD)
    assert text.startswith("$1,577 million. [1]")
    assert (
        '[1] ✓ 3M_2018_10K, page 60 (printed p. 58): "(1,577)" ([page image](http://h:8000/v1/documents/3M_2018_10K/pages/60/image))'
        in text
    )
    assert text.endswith(f"(http://h:8000/#/threads/{THREAD})")
    unsure = {**answer, "status": "unsure", "citations": [{**cite, "verified": False}]}
    both = answer_markdown({"question": "q", "agentic": answer, "rag": unsure}, None, "answered", "http://h", None)
    assert "**Agentic**\n\n$1,577 million. [1]" in both and "**RAG**\n\n_(unsure)_ $1,577 million. [2]" in both
    assert "[2] ✗ 3M_2018_10K" in both
    assert usage_of({"agentic": answer, "rag": answer}) == {"prompt_tokens": 20, "completion_tokens": 4, "total_tokens": 24}
    assert answer_markdown(None, "GPU out of memory", "failed", "http://h", None) == "_The research failed_: GPU out of memory"
