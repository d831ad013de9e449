"""Tool calls written as text: every format small open models use, repairs, and the errors sent back to the model."""

from __future__ import annotations

import json

import pytest

from agent.toolcalls import (
    CALL_FORMAT,
    ParsedToolCall,
    parse_tool_calls,
    tool_call_instructions,
)

TOOLS = {"grep", "read", "search", "outline"}


def calls(text: str) -> list[tuple[str, dict]]:
    result = parse_tool_calls(text, TOOLS)
    assert result.errors == [], result.errors
    return [(c.name, c.arguments) for c in result.calls]


GREP = ("grep", {"pattern": "capital expenditures"})


# --- bare JSON, every spelling of a call ---


@pytest.mark.parametrize(
    "text",
    [
        '{"name": "grep", "arguments": {"pattern": "capital expenditures"}}',
        '{"name": "grep", "parameters": {"pattern": "capital expenditures"}}',
        '{"name": "grep", "args": {"pattern": "capital expenditures"}}',
        '{"name": "grep", "arguments": "{\\"pattern\\": \\"capital expenditures\\"}"}',
        '{"type": "function", "function": {"name": "grep", "arguments": "{\\"pattern\\": \\"capital expenditures\\"}"}}',
        '{"id": "call_1", "type": "function", "function": {"name": "grep", "arguments": {"pattern": "capital expenditures"}}}',
        '{"tool": "grep", "tool_input": {"pattern": "capital expenditures"}}',
        '{"action": "grep", "action_input": {"pattern": "capital expenditures"}}',
        '{"type": "tool_use", "name": "grep", "input": {"pattern": "capital expenditures"}}',
        '{"name": "functions.grep", "arguments": {"pattern": "capital expenditures"}}',
        '{"name": "grep", "pattern": "capital expenditures"}',
        '{"grep": {"pattern": "capital expenditures"}}',
        '  {"name": "grep", "arguments": {"pattern": "capital expenditures"}}  \n',
    ],
)
def test_bare_json_spellings(text: str) -> None:
    assert calls(text) == [GREP]


def test_list_of_calls() -> None:
    text = '[{"name": "grep", "arguments": {"pattern": "capex"}}, {"name": "read", "arguments": {"doc_id": "3M_2018_10K", "page": 5}}]'
    assert calls(text) == [("grep", {"pattern": "capex"}), ("read", {"doc_id": "3M_2018_10K", "page": 5})]


def test_tool_calls_wrapper() -> None:
    text = '{"tool_calls": [{"type": "function", "function": {"name": "outline", "arguments": "{}"}}]}'
    assert calls(text) == [("outline", {})]


def test_missing_and_empty_arguments_are_an_empty_object() -> None:
    assert calls('{"name": "outline", "arguments": ""}') == [("outline", {})]
    assert calls('{"name": "outline", "arguments": null}') == [("outline", {})]
    assert calls('<tool_call>{"name": "outline"}</tool_call>') == [("outline", {})]


def test_reasoning_before_the_call_stays_in_remaining_text() -> None:
    text = 'I need the capex figure for 2022. Let me search the 10-K.\n\n{"name": "grep", "arguments": {"pattern": "capex"}}'
    result = parse_tool_calls(text, TOOLS)
    assert [(c.name, c.arguments) for c in result.calls] == [("grep", {"pattern": "capex"})]
    assert result.remaining_text == "I need the capex figure for 2022. Let me search the 10-K."


def test_ids_are_stable_and_in_order() -> None:
    text = (
        'First {"name": "search", "arguments": {"query": "capex"}} then\n'
        '<tool_call>{"name": "grep", "arguments": {"pattern": "PP&E"}}</tool_call>\n'
        '```json\n{"name": "read", "arguments": {"doc_id": "X", "page": 2}}\n```'
    )
    result = parse_tool_calls(text, TOOLS)
    assert result.calls == [
        ParsedToolCall("search", {"query": "capex"}, "text_call_0"),
        ParsedToolCall("grep", {"pattern": "PP&E"}, "text_call_1"),
        ParsedToolCall("read", {"doc_id": "X", "page": 2}, "text_call_2"),
    ]
    assert result.remaining_text == "First  then"


def test_several_bare_calls_in_one_message() -> None:
    text = '{"name": "grep", "arguments": {"pattern": "a"}}\n{"name": "grep", "arguments": {"pattern": "b"}}'
    assert calls(text) == [("grep", {"pattern": "a"}), ("grep", {"pattern": "b"})]


# --- fenced ---


def test_fenced_json() -> None:
    text = 'Searching now.\n```json\n{"name": "grep", "arguments": {"pattern": "capital expenditures"}}\n```\n'
    result = parse_tool_calls(text, TOOLS)
    assert [(c.name, c.arguments) for c in result.calls] == [GREP]
    assert result.remaining_text == "Searching now."


def test_fenced_without_language_and_unclosed_at_end() -> None:
    assert calls('```\n{"name": "grep", "arguments": {"pattern": "capital expenditures"}}\n```') == [GREP]
    assert calls('```json\n{"name": "grep", "arguments": {"pattern": "capital expenditures"}}') == [GREP]


def test_fenced_list() -> None:
    text = '```json\n[{"name": "grep", "arguments": {"pattern": "a"}},\n {"name": "outline", "arguments": {"doc_id": "X"}}]\n```'
    assert calls(text) == [("grep", {"pattern": "a"}), ("outline", {"doc_id": "X"})]


def test_fenced_code_and_non_call_json_are_left_alone() -> None:
    text = 'Here is how:\n```python\nd = {"name": "grep"}\n```\nand the data:\n```json\n{"revenue": 1577, "unit": "million"}\n```'
    result = parse_tool_calls(text, TOOLS)
    assert result.calls == [] and result.errors == []
    assert result.remaining_text == text


# --- tagged ---


def test_hermes_tool_call_tags() -> None:
    text = '<tool_call>\n{"name": "grep", "arguments": {"pattern": "capital expenditures"}}\n</tool_call>'
    result = parse_tool_calls(text, TOOLS)
    assert [(c.name, c.arguments) for c in result.calls] == [GREP]
    assert result.remaining_text == ""


def test_several_tool_call_tags_with_prose() -> None:
    text = (
        "I'll check both years.\n"
        '<tool_call>{"name": "grep", "arguments": {"pattern": "capex", "glob": "ACME_2021*"}}</tool_call>\n'
        '<tool_call>{"name": "grep", "arguments": {"pattern": "capex", "glob": "ACME_2022*"}}</tool_call>'
    )
    result = parse_tool_calls(text, TOOLS)
    assert [c.arguments["glob"] for c in result.calls] == ["ACME_2021*", "ACME_2022*"]
    assert [c.id for c in result.calls] == ["text_call_0", "text_call_1"]
    assert result.remaining_text == "I'll check both years."


def test_tool_call_tag_missing_its_closing_tag() -> None:
    text = (
        '<tool_call>{"name": "grep", "arguments": {"pattern": "a"}}\n<tool_call>{"name": "grep", "arguments": {"pattern": "b"}}'
    )
    assert calls(text) == [("grep", {"pattern": "a"}), ("grep", {"pattern": "b"})]


def test_tool_call_tag_holding_a_fence_or_several_objects() -> None:
    assert calls(
        '<tool_call>\n```json\n{"name": "grep", "arguments": {"pattern": "capital expenditures"}}\n```\n</tool_call>'
    ) == [GREP]
    text = '<tool_call>\n{"name": "grep", "arguments": {"pattern": "a"}}\n{"name": "outline", "arguments": {}}\n</tool_call>'
    assert calls(text) == [("grep", {"pattern": "a"}), ("outline", {})]


def test_tools_tags() -> None:
    assert calls('<tools>{"name": "grep", "arguments": {"pattern": "capital expenditures"}}</tools>') == [GREP]


def test_llama_function_tag() -> None:
    assert calls('<function=grep>{"pattern": "capital expenditures"}</function>') == [GREP]
    assert calls("<function=outline></function>") == [("outline", {})]
    assert calls('<function=grep>{"name": "grep", "arguments": {"pattern": "capital expenditures"}}</function>') == [GREP]


def test_llama_python_tag() -> None:
    assert calls('<|python_tag|>{"name": "grep", "parameters": {"pattern": "capital expenditures"}}<|eom_id|>') == [GREP]
    result = parse_tool_calls('<|python_tag|>{"name": "grep", "parameters": {"pattern": "capital expenditures"}}', TOOLS)
    assert [(c.name, c.arguments) for c in result.calls] == [GREP] and result.remaining_text == ""


def test_tool_call_in_a_fence_inside_tags_leaves_no_empty_fence() -> None:
    text = 'Calling:\n```\n<tool_call>{"name": "grep", "arguments": {"pattern": "capital expenditures"}}</tool_call>\n```'
    result = parse_tool_calls(text, TOOLS)
    assert [(c.name, c.arguments) for c in result.calls] == [GREP]
    assert result.remaining_text == "Calling:"


# --- think blocks ---


def test_calls_inside_think_are_ignored() -> None:
    text = (
        '<think>Maybe {"name": "read", "arguments": {"doc_id": "X"}}? No, grep first.</think>\n'
        '<tool_call>{"name": "grep", "arguments": {"pattern": "capital expenditures"}}</tool_call>'
    )
    result = parse_tool_calls(text, TOOLS)
    assert [(c.name, c.arguments) for c in result.calls] == [GREP]
    assert result.remaining_text == ""


def test_think_opened_in_the_prompt_only_closes_in_the_reply() -> None:
    text = 'I could call <tool_call>{"name": "read", "arguments": {}}</tool_call> but no.</think>\nCapex was $577 million.'
    result = parse_tool_calls(text, TOOLS)
    assert result.calls == [] and result.errors == []
    assert result.remaining_text == "Capex was $577 million."


def test_thinking_tags_too() -> None:
    text = '<thinking>{"name": "read", "arguments": {}}</thinking>{"name": "outline", "arguments": {}}'
    assert calls(text) == [("outline", {})]


def test_many_stray_braces_stay_fast() -> None:
    text = '{"a": 1 ' * 5000 + '{"name": "grep"'
    result = parse_tool_calls(text, TOOLS)
    assert result.calls == []


def test_unclosed_think_hides_everything_after_it() -> None:
    result = parse_tool_calls('<think>let me try {"name": "grep", "arguments": {"pattern": "x"}}', TOOLS)
    assert result.calls == [] and result.errors == [] and result.remaining_text == ""


# --- braces in strings ---


def test_regex_with_braces_in_pattern() -> None:
    assert calls(r'{"name": "grep", "arguments": {"pattern": "\\d{4}-\\d{2}"}}') == [("grep", {"pattern": r"\d{4}-\d{2}"})]
    assert calls('<tool_call>{"name": "grep", "arguments": {"pattern": "{"}}</tool_call>') == [("grep", {"pattern": "{"})]
    assert calls('{"name": "grep", "arguments": {"pattern": "}"}} done') == [("grep", {"pattern": "}"})]
    assert calls('{"name": "grep", "arguments": {"pattern": "say \\"{x}\\" [y"}}') == [("grep", {"pattern": 'say "{x}" [y'})]


def test_regex_written_with_single_backslashes_is_repaired() -> None:
    assert calls('{"name": "grep", "arguments": {"pattern": "\\d{4}\\s+million"}}') == [("grep", {"pattern": r"\d{4}\s+million"})]


def test_final_answer_with_braces_is_no_call() -> None:
    text = 'The figure is in {Item 7} and the set {2021, 2022}; see {"note": 4}. The ratio {a/b} is 1.2 {approx}.'
    result = parse_tool_calls(text, TOOLS)
    assert result.calls == [] and result.errors == []
    assert result.remaining_text == text


def test_final_answer_json_is_left_untouched() -> None:
    text = 'Final answer:\n{"answer": "$1,577 million", "citations": [{"doc_id": "ACME_2022_10K", "page": 4}]}'
    result = parse_tool_calls(text, TOOLS)
    assert result.calls == [] and result.errors == []
    assert result.remaining_text == text


def test_answer_json_with_a_name_field_is_no_call() -> None:
    text = '{"name": "ACME Widgets", "revenue": 1577}'
    result = parse_tool_calls(text, TOOLS)
    assert result.calls == [] and result.errors == [] and result.remaining_text == text


# --- repairs ---


@pytest.mark.parametrize(
    "text",
    [
        '{"name": "grep", "arguments": {"pattern": "capital expenditures",},}',
        "{'name': 'grep', 'arguments': {'pattern': 'capital expenditures'}}",
        "<tool_call>{'name': 'grep', 'arguments': {'pattern': 'capital expenditures'}}</tool_call>",
        '{name: "grep", arguments: {pattern: "capital expenditures"}}',
        '{"name": "grep", "arguments": {"pattern": "capital expenditures"}',
        'Let me look. {"name": "grep", "arguments": {"pattern": "capital expenditures"',
        '<tool_call>{"name": "grep", "arguments": {"pattern": "capital expenditures"}</tool_call>',
    ],
)
def test_repairs(text: str) -> None:
    assert calls(text) == [GREP]


def test_python_literals() -> None:
    text = '{"name": "grep", "arguments": {"pattern": "x", "ignore_case": True, "glob": None, "fixed": False}}'
    assert calls(text) == [("grep", {"pattern": "x", "ignore_case": True, "glob": None, "fixed": False})]


def test_single_quotes_with_apostrophes_and_double_quotes_inside() -> None:
    assert calls("{'name': 'grep', 'arguments': {'pattern': 'management's discussion'}}") == [
        ("grep", {"pattern": "management's discussion"})
    ]
    assert calls("{'name': 'grep', 'arguments': {'pattern': 'the \"Company\"'}}") == [("grep", {"pattern": 'the "Company"'})]
    assert calls('{"name": "grep", "arguments": {"pattern": "it\'s"}}') == [("grep", {"pattern": "it's"})]


def test_literal_words_inside_strings_are_not_touched() -> None:
    assert calls("{'name': 'search', 'arguments': {'query': 'True None False, yes'}}") == [
        ("search", {"query": "True None False, yes"})
    ]


def test_valid_json_is_never_rewritten() -> None:
    assert calls('{"name": "search", "arguments": {"query": "a, }"}}') == [("search", {"query": "a, }"})]


# --- errors for the model ---


def test_unknown_tool() -> None:
    result = parse_tool_calls('<tool_call>{"name": "gerp", "arguments": {"pattern": "x"}}</tool_call>', TOOLS)
    assert result.calls == []
    assert len(result.errors) == 1
    assert result.errors[0].startswith("unknown tool 'gerp'; available: grep, outline, read, search.")
    assert "Did you mean 'grep'?" in result.errors[0] and CALL_FORMAT in result.errors[0]
    assert result.remaining_text == ""


def test_unknown_tool_in_bare_json_with_arguments() -> None:
    result = parse_tool_calls('{"name": "web_search", "arguments": {"q": "x"}}', TOOLS)
    assert result.calls == [] and result.errors[0].startswith("unknown tool 'web_search'")


def test_unknown_tool_beside_a_good_call() -> None:
    text = '<tool_call>{"name": "gerp", "arguments": {}}</tool_call><tool_call>{"name": "grep", "arguments": {"pattern": "x"}}</tool_call>'
    result = parse_tool_calls(text, TOOLS)
    assert [c.name for c in result.calls] == ["grep"] and result.calls[0].id == "text_call_0"
    assert len(result.errors) == 1 and "'gerp'" in result.errors[0]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ('{"name": "grep", "arguments": ["capex"]}', "a list"),
        ('{"name": "grep", "arguments": "capex"}', "not valid JSON"),
        ('<tool_call>{"name": "grep", "arguments": 5}</tool_call>', "a number"),
        ('{"name": "grep", "arguments": "[1, 2]"}', "a list"),
    ],
)
def test_arguments_that_are_not_an_object(text: str, kind: str) -> None:
    result = parse_tool_calls(text, TOOLS)
    assert result.calls == []
    assert len(result.errors) == 1
    assert "arguments of 'grep'" in result.errors[0] and kind in result.errors[0]
    assert '<tool_call>{"name": "grep", "arguments": {...}}</tool_call>' in result.errors[0]


def test_tagged_block_that_cannot_be_parsed() -> None:
    text = 'Let me search.\n<tool_call>{"name": "grep", "arguments": {"pattern": "capex" "glob": "*"}}</tool_call>'
    result = parse_tool_calls(text, TOOLS)
    assert result.calls == []
    assert len(result.errors) == 1
    error = result.errors[0]
    assert error.startswith('Could not parse the tool call \'<tool_call>{"name": "grep"')
    assert "Expecting ',' delimiter" in error and error.endswith(CALL_FORMAT)
    assert result.remaining_text == "Let me search."


def test_long_malformed_block_is_quoted_by_a_short_prefix() -> None:
    text = "<tool_call>{'name': 'grep', 'arguments': {'pattern': " + "x" * 500 + "}}</tool_call>"
    error = parse_tool_calls(text, TOOLS).errors[0]
    assert "x" * 200 not in error and "..." in error


def test_tagged_block_that_is_not_json() -> None:
    result = parse_tool_calls("<tool_call>grep(pattern='capex')</tool_call>", TOOLS)
    assert result.calls == [] and len(result.errors) == 1 and "grep(pattern=" in result.errors[0]


def test_tagged_object_without_a_name() -> None:
    result = parse_tool_calls('<tool_call>{"pattern": "capex"}</tool_call>', TOOLS)
    assert result.calls == [] and "names no tool" in result.errors[0]


def test_fenced_block_that_cannot_be_parsed() -> None:
    text = '```json\n{"name": "grep", "arguments": {"pattern": "capex"]]\n```'
    result = parse_tool_calls(text, TOOLS)
    assert result.calls == [] and len(result.errors) == 1 and CALL_FORMAT in result.errors[0]


def test_truncated_string_is_an_error_not_a_different_call() -> None:
    result = parse_tool_calls('{"name": "grep", "arguments": {"pattern": "capital expend', TOOLS)
    assert result.calls == [] and len(result.errors) == 1 and "Could not parse" in result.errors[0]


def test_broken_bare_call_beside_a_good_one_reports_only_the_broken_one() -> None:
    text = 'Try {"name": "grep", "arguments": {"pattern": "a" "b"}} and {"name": "read", "arguments": {"doc_id": "X"}}'
    result = parse_tool_calls(text, TOOLS)
    assert [(c.name, c.arguments) for c in result.calls] == [("read", {"doc_id": "X"})]
    assert len(result.errors) == 1 and "Could not parse" in result.errors[0]


def test_prose_with_a_stray_brace_before_a_call() -> None:
    text = 'The notation { is odd. {"name": "grep", "arguments": {"pattern": "capital expenditures"}}'
    result = parse_tool_calls(text, TOOLS)
    assert [(c.name, c.arguments) for c in result.calls] == [GREP] and result.errors == []
    assert result.remaining_text == "The notation { is odd."


def test_no_tools_known_means_every_call_is_unknown() -> None:
    result = parse_tool_calls('<tool_call>{"name": "grep", "arguments": {}}</tool_call>', set())
    assert result.calls == [] and "available: (none)" in result.errors[0]


def test_plain_answer_is_returned_unchanged() -> None:
    text = "Capital expenditures were $577 million in FY2022 (ACME_2022_10K p.4).\n"
    result = parse_tool_calls(text, TOOLS)
    assert result.calls == [] and result.errors == [] and result.remaining_text == text


# --- measured replies from small models ---


def test_qwen_coder_style_replies() -> None:
    replies = [
        '```json\n{\n  "name": "grep",\n  "arguments": {\n    "pattern": "capital expenditures"\n  }\n}\n```',
        '{"name": "grep", "arguments": {"pattern": "capital expenditures"}}</tool_call>',
        'To find the answer I will search.\n\n{\n    "name": "grep",\n    "arguments": {\n        "pattern": "capital expenditures"\n    }\n}\n',
    ]
    for reply in replies:
        result = parse_tool_calls(reply, TOOLS)
        assert [(c.name, c.arguments) for c in result.calls] == [GREP], reply
        assert "{" not in result.remaining_text and "tool_call" not in result.remaining_text


# --- instructions ---


SCHEMAS = [
    {
        "type": "function",
        "function": {
            "name": "grep",
            "description": "Regex-search filing text with ripgrep.",
            "parameters": {
                "type": "object",
                "properties": {
                    "pattern": {"type": "string", "title": "Pattern"},
                    "title": {"type": "string", "title": "Title"},
                    "context": {"type": "integer", "default": 2, "title": "Context"},
                },
                "required": ["pattern"],
                "title": "grep_args",
            },
        },
    },
    {"name": "outline", "description": "Headings of a filing.", "parameters": {"type": "object", "properties": {}}},
]


def test_instructions_list_tools_and_the_format() -> None:
    text = tool_call_instructions(SCHEMAS)
    assert "## grep\nRegex-search filing text with ripgrep." in text
    assert "## outline\nHeadings of a filing." in text
    schema_line = next(line for line in text.splitlines() if line.startswith("Parameters") and "pattern" in line)
    schema = json.loads(schema_line.split(": ", 1)[1])
    assert schema["properties"]["title"] == {"type": "string"}  # a parameter named title survives; pydantic titles go
    assert "title" not in schema and schema["required"] == ["pattern"]
    assert ", " not in schema_line.split(": ", 1)[1]  # compact
    assert CALL_FORMAT in text
    assert 'For example: <tool_call>{"name": "grep", "arguments": {"pattern": "<pattern>"}}</tool_call>' in text
    assert "one or more calls" in text and "final answer" in text and "no <tool_call>" in text


def test_instructions_example_parses_back() -> None:
    example = next(line for line in tool_call_instructions(SCHEMAS).splitlines() if line.startswith("For example: "))
    result = parse_tool_calls(example.removeprefix("For example: "), {"grep", "outline"})
    assert [(c.name, c.arguments) for c in result.calls] == [("grep", {"pattern": "<pattern>"})]


def test_instructions_for_the_real_registry() -> None:
    from tools.registry import REGISTRY

    text = tool_call_instructions(REGISTRY.schemas())
    assert REGISTRY.names()
    for name in REGISTRY.names():
        assert f"## {name}\n" in text
