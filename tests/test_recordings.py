"""Every committed Temporal recording loads in durasim, and its README says what it holds.

The recordings under tests/fixtures/ are the ground truth the conformance tests compare
durasim with; their READMEs are where a reader learns what each one shows. This test keeps
the two from drifting: each README's event-type list must name every file of its folder
and match, type for type and in order, what the file holds; and every file must load with
``durasim.History.from_temporal_json`` (the same code path users load histories with).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from durasim import History

FIXTURES = Path(__file__).parent / "fixtures"
#: Folder -> the README that lists its recordings.
FOLDERS = {FIXTURES / "recorded": FIXTURES / "recorded" / "README.md",
           FIXTURES / "sdk" / "recorded": FIXTURES / "sdk" / "README.md"}
SDK_RESULTS = FIXTURES / "sdk" / "recorded" / "results.json"
#: The README shorthand for one completed workflow task.
WT = ["WorkflowTaskScheduled", "WorkflowTaskStarted", "WorkflowTaskCompleted"]
#: "- `a.json`, `b.json` (11 each): WorkflowExecutionStarted, WT, ..."
LISTED = re.compile(r"^- ((?:`[^`]+\.json`(?:, )?)+) \((\d+)(?: each)?\): (.+)$")


@dataclass(frozen=True)
class Listed:
    """One file as its README lists it."""

    path: Path
    count: int
    event_types: list[str]


def readme_lists(folder: Path, readme: Path) -> list[Listed]:
    """The event-type lists a README gives, one entry per file it names."""
    listed = []
    for line in readme.read_text(encoding="utf-8").splitlines():
        match = LISTED.match(line)
        if not match:
            continue
        names, count, types = match.groups()
        expanded = [t for word in types.split(", ") for t in (WT if word == "WT" else [word])]
        listed += [Listed(folder / name, int(count), expanded)
                   for name in re.findall(r"`([^`]+)`", names)]
    return listed


def recordings(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.json") if p.name != SDK_RESULTS.name)


ALL_LISTED = [entry for folder, readme in FOLDERS.items()
              for entry in readme_lists(folder, readme)]


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda f: str(f.relative_to(FIXTURES)))
def test_the_readme_lists_every_recording_once(folder: Path) -> None:
    named = [entry.path for entry in readme_lists(folder, FOLDERS[folder])]
    assert len(named) == len(set(named)), "a file is listed twice"
    assert sorted(named) == recordings(folder)


@pytest.mark.parametrize("entry", ALL_LISTED, ids=lambda e: str(e.path.relative_to(FIXTURES)))
def test_each_recording_loads_and_holds_the_listed_event_types(entry: Listed) -> None:
    history = History.from_temporal_json(entry.path)
    assert len(entry.event_types) == entry.count, "the README's count and list disagree"
    assert history.event_types() == entry.event_types
    assert history.events[0].event_type.value == "WorkflowExecutionStarted"
    assert [e.event_id for e in history] == list(range(1, len(history) + 1))


def test_sdk_results_describe_every_recording() -> None:
    """results.json names each history file once, its module exists, and the status it
    gives is how the workflow's last run really closed."""
    results = json.loads(SDK_RESULTS.read_text(encoding="utf-8"))
    files = [name for entry in results.values() for name in entry["histories"]]
    assert sorted(files) == [p.name for p in recordings(SDK_RESULTS.parent)]
    closing = {"completed": "WorkflowExecutionCompleted", "failed": "WorkflowExecutionFailed",
               "canceled": "WorkflowExecutionCanceled"}
    for name, entry in results.items():
        assert (FIXTURES / "sdk" / f"{entry['module']}.py").is_file(), name
        runs = [f for f in entry["histories"] if "_child" not in f]
        last = History.from_temporal_json(SDK_RESULTS.parent / runs[-1])
        assert last.event_types()[-1] == closing[entry["status"]], name
        assert last.workflow_type == entry["workflow_type"], name
        assert last.workflow_id == entry["workflow_id"], name


def test_every_sdk_module_has_a_recording() -> None:
    modules = {p.stem for p in (FIXTURES / "sdk").glob("*.py")} - {"record", "__init__"}
    recorded = {entry["module"]
                for entry in json.loads(SDK_RESULTS.read_text(encoding="utf-8")).values()}
    assert modules == recorded
