"""`sleuth ask --thread` and `sleuth chat` as a user runs them: follow-ups in one thread, stored where the API sees them."""

from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

from api.cli import app
from tests.agent.test_research import CAPEX_CITATION, answer
from tests.fakes.fake_llm import FakeLLM, Reply

pytestmark = pytest.mark.financebench
FIRST = "What was 3M's FY2018 capex?"
CAPEX_2017 = {"doc_id": "3M_2018_10K", "page": 60, "quote": "Purchases of property, plant and equipment (PP&E) (1,577) (1,373)"}


def _user(body: dict) -> str:
    return next(m["content"] for m in body["messages"] if m["role"] == "user")


def script(body: dict) -> Reply:
    user = _user(body)
    if "Research memory of this thread" not in user:
        return answer("3M's FY2018 capital expenditure was $1,577 million.", CAPEX_CITATION)
    assert "Q: What was 3M's FY2018 capex?" in user, user
    return answer("In FY2017 it was $1,373 million.", CAPEX_2017)


@pytest.fixture
def cli(filings_settings, tmp_path, monkeypatch, sleuth_env):
    data = tmp_path / "data"
    shutil.copytree(filings_settings.data_dir, data)
    sleuth_env(SLEUTH_DATA_DIR=str(data), SLEUTH_DATABASE_URL=None)
    monkeypatch.chdir(tmp_path)

    def invoke(fake: FakeLLM, *args: str, input: str | None = None):
        sleuth_env(SLEUTH_LLM_BASE_URL=fake.base_url, SLEUTH_LLM_MAX_RETRIES="0")
        return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)

    return invoke


def test_ask_prints_the_thread_and_continues_it(cli):
    with FakeLLM(script) as fake:
        first = cli(fake, "ask", FIRST)
        assert first.exit_code == 0, first.output
        line = next(x for x in first.stderr.splitlines() if x.startswith("thread "))
        thread_id = line.split()[1]
        assert line == f'thread {thread_id} · turn 1; follow up with: sleuth ask "..." --thread {thread_id}'

        second = cli(fake, "ask", "and in 2017?", "--thread", thread_id)
        assert second.exit_code == 0, second.output
        assert "▶ agentic: and in 2017? (memory of 1 earlier turns, ~" in second.stderr
        assert "In FY2017 it was $1,373 million." in second.stdout and "memory " in second.stdout
        assert f"thread {thread_id} · turn 2" in second.stderr

        unknown = cli(fake, "ask", "and 2016?", "--thread", "no-such-thread")
        assert unknown.exit_code == 2 and "error: thread no-such-thread not found" in unknown.stderr
        assert len(fake.requests) == 2


def test_chat_follows_up_in_one_thread_lists_threads_and_starts_new_ones(cli):
    lines = [FIRST, "and in 2017?", "/threads", "/new", FIRST, "/threads", "/open 2", "/mode rag", "/bogus", "/quit"]
    with FakeLLM(script) as fake:
        result = cli(fake, "chat", input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.count("== agentic · answered ==") == 3
    assert "In FY2017 it was $1,373 million." in out
    assert "(thread " in out and "· turn 2)" in out
    assert "▶ agentic: and in 2017? (memory of 1 earlier turns" in result.stderr  # the live trace, as ask prints it
    listing = out.split("2 turns, answered")[0]
    assert "1. " in listing and "What was 3M's FY2018 capex?" in out.split("2 turns, answered")[1].splitlines()[0]
    assert "the next question starts a new thread" in out
    assert "continuing thread " in out and "[thread " in out and "· rag]> " in out
    assert "unknown command '/bogus'" in out
    second_memory = [_user(r) for r in fake.requests if "Research memory" in _user(r)]
    assert len(second_memory) == 1  # the question after /new started from nothing


def test_chat_ends_at_end_of_input_and_refuses_a_bad_mode(cli):
    with FakeLLM(script) as fake:
        assert cli(fake, "chat", input="").exit_code == 0
        bad = cli(fake, "chat", "--mode", "deep", input="")
    assert bad.exit_code == 2 and "--mode must be agentic, rag or compare" in bad.stderr


def _own_terminal() -> None:
    """In the child: a session of its own whose controlling terminal is the pseudo-terminal on stdin (as sshd sets up)."""
    import fcntl
    import os
    import termios

    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


@pytest.mark.slow
def test_chat_in_a_terminal_ctrl_c_stops_the_running_question_and_the_chat_goes_on(cli, tmp_path):
    """As over SSH: `sleuth chat` on a pseudo-terminal; Ctrl-C during a slow answer stops that question only."""
    import os
    import pty
    import select
    import subprocess
    import sys
    import time

    def slow_then_fast(body: dict) -> Reply:
        if _user(body).endswith("Question: the slow one"):
            return Reply(content="thinking", delay_s=30)
        return answer("3M's FY2018 capital expenditure was $1,577 million.", CAPEX_CITATION)

    with FakeLLM(slow_then_fast) as fake:
        env = {**os.environ, "SLEUTH_LLM_BASE_URL": fake.base_url, "SLEUTH_LLM_MAX_RETRIES": "0", "PYTHONPATH": os.getcwd()}
        env["PYTHONPATH"] = str(__import__("pathlib").Path(__file__).resolve().parents[2])
        leader, follower = pty.openpty()
        proc = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "chat"],
            stdin=follower,
            stdout=follower,
            stderr=follower,
            env=env,
            cwd=tmp_path,
            preexec_fn=_own_terminal,
        )
        os.close(follower)
        seen = b""

        def until(marker: bytes, timeout: float = 60) -> None:
            nonlocal seen
            deadline = time.monotonic() + timeout
            while marker not in seen:
                assert time.monotonic() < deadline and proc.poll() is None, seen.decode(errors="replace")[-2000:]
                if select.select([leader], [], [], 0.2)[0]:
                    try:
                        seen += os.read(leader, 4096)
                    except OSError:  # the child closed the terminal
                        break

        try:
            until(b"]> ")
            os.write(leader, b"the slow one\n")
            until(b"the slow one")
            time.sleep(1.0)
            os.write(leader, b"\x03")  # Ctrl-C, as the terminal sends it
            until(b"stopped; the turn is kept as cancelled")
            os.write(leader, FIRST.encode() + b"\n")
            until(b"$1,577 million.")
            until(b"turn 2)")  # the stopped question was turn 1 of the same thread
            os.write(leader, b"/threads\n")
            until(b"2 turns, answered")
            os.write(leader, b"/quit\n")
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
            os.close(leader)
