"""Property 7, fuzzing: damaged Temporal JSON is refused with HistoryFormatError, nothing else.

Students load histories they exported, edited by hand, truncated in a copy-paste, or saved
from another tool. Whatever they load, durasim must either read it or say in one line
what is wrong and where (source, event index, field) -- never crash with a traceback.
Hypothesis starts from real recordings and engine histories and damages them: values
replaced by junk, keys and events removed, events duplicated or swapped, bad ids, types,
times and payloads, truncation, stray bytes, bad UTF-8 and absurd nesting. (What loads is
then shown, written and replayed by tests/adversarial/test_history_inputs.py.)
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

from durasim import History
from durasim.cli import main
from durasim.errors import HistoryFormatError
from durasim.strategies import history_sources, temporal_histories
from tests.conftest import FIXTURES, REPO
from tests.properties import examples

SCRATCH = tempfile.TemporaryDirectory(prefix="durasim-fuzz-")
"""One folder for every file this module writes (hypothesis reuses it across examples)."""


def write(doc: Any, name: str = "history.json") -> Path:
    """Put a generated document in a file, as a student's download would be."""
    path = Path(SCRATCH.name) / name
    if isinstance(doc, bytes):
        path.write_bytes(doc)
    elif isinstance(doc, str):
        path.write_text(doc, encoding="utf-8", errors="surrogatepass")
    else:
        path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def load(doc: Any) -> History | None:
    """Load ``doc``; None when it was refused, as promised, with a one-line message."""
    try:
        return History.from_temporal_json(doc)
    except HistoryFormatError as error:
        message = str(error)
        assert message and "\n" not in message, f"not one line: {message[:300]!r}"
        return None


def test_the_fuzzer_starts_from_real_recordings() -> None:
    sources = history_sources()
    assert any(p.parent.name == "temporal" for p in sources), sources
    assert any(p.parent.name == "recorded" for p in sources), sources


@settings(max_examples=examples(2000))
@given(doc=temporal_histories())
def test_loading_raises_nothing_but_history_format_error(doc: Any) -> None:
    history = load(doc)
    if history is not None:  # what loads is exported and re-read without loss
        again = History.from_temporal_json(history.to_temporal_json())
        assert again.events == history.events


@settings(max_examples=examples(500))
@given(doc=temporal_histories(valid=True))
def test_valid_histories_load(doc: Any) -> None:
    history = History.from_temporal_json(doc)
    assert history.events[0].event_type.value == "WorkflowExecutionStarted"


@settings(max_examples=examples(1000))
@given(doc=temporal_histories(form="text"))
def test_the_history_command_exits_0_or_2_with_one_line(doc: Any) -> None:
    path = write(doc)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["history", str(path)])
    if load(path) is None:
        assert status == 2
        assert len(err.getvalue().splitlines()) == 1, err.getvalue()
        assert out.getvalue() == ""
    else:
        assert status == 0, err.getvalue()
        assert err.getvalue() == ""


def _damaged() -> dict[str, bytes]:
    """Hand-made damage of a real recording, one file per kind, for the real command."""
    text = (FIXTURES / "temporal" / "money_transfer.json").read_text()
    doc = json.loads(text)

    def variant(change: Any) -> bytes:
        copy = json.loads(text)
        change(copy)
        return json.dumps(copy).encode()

    return {
        "truncated": text[: len(text) // 2].encode(),
        "bad-utf8": text.encode()[:100] + b"\xff\xfe" + text.encode()[100:],
        "not-json": b"events: [1, 2, 3]",
        "empty": b"",
        "deep-nesting": b'{"events": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        "top-level-number": b"42",
        "events-not-a-list": variant(lambda d: d.update(events={"eventId": "1"})),
        "unknown-event-type": variant(
            lambda d: d["events"][3].update(eventType="EVENT_TYPE_SOMETHING_NEW")),
        "missing-event-id": variant(lambda d: d["events"][2].pop("eventId")),
        "ids-out-of-order": variant(lambda d: d["events"].insert(1, d["events"].pop(4))),
        "duplicated-event": variant(lambda d: d["events"].insert(2, d["events"][2])),
        "bad-event-time": variant(lambda d: d["events"][1].update(eventTime="yesterday")),
        "bad-payload": variant(lambda d: d["events"][0][
            "workflowExecutionStartedEventAttributes"]["input"]["payloads"][0].update(
                data="%%% not base64")),
        "wrong-attributes": variant(lambda d: d["events"][1].update(
            timerFiredEventAttributes=d["events"][1].pop(
                "workflowTaskScheduledEventAttributes"))),
    } if doc else {}


DAMAGED = _damaged()


@pytest.mark.parametrize("kind", list(DAMAGED))
def test_the_real_command_refuses_damaged_files_in_one_line(kind: str) -> None:
    path = write(DAMAGED[kind], f"{kind}.json")
    with pytest.raises(HistoryFormatError):
        History.from_temporal_json(path)
    done = subprocess.run([sys.executable, "-m", "durasim", "history", str(path)], cwd=REPO,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert str(path) in done.stderr, "the message names the file"
