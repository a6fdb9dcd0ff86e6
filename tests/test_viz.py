"""The pictures: what each one shows for the talk's runs, and that drawing never changes a run.

Pictures are judged by what they were decided to show (the timeline's lanes, marks,
arrows and spans; the graph's node states; the balances' movements) and by real PNG
bytes, so a test fails when a crash stops being drawn, not when a pixel moves.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib
import pytest
from matplotlib.figure import Figure
from PIL import Image

import durasim
from durasim import Crash, History, activity, workflow
from durasim.api import run
from durasim.i18n import LANGUAGES, get_language, keys, set_language, t
from durasim.viz import (
    animate,
    architecture_graph,
    balances,
    complexity_figure,
    history_view,
    replayed_events,
    save_gif,
    timeline,
    to_jshtml,
    to_png,
)
from durasim.viz.replay import replay_to
from durasim.viz.state import balances_at, moments, movements, node_status, queue_depths
from durasim.viz.story import tell
from durasim.viz.style import format_time, lane_order, node_kind
from tests.workflows import bank

matplotlib.use("Agg")

RECORDED = Path(__file__).parent / "fixtures" / "recorded"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def lost() -> durasim.api.Run:
    """The talk's case on the naive event-driven system: the deposit is lost."""
    return run("transfer", "event_driven", Crash(at_step=5))


@pytest.fixture(scope="module")
def replayed() -> durasim.engine.WorkflowRun:
    """The bank transfer on the engine, its worker killed after 14 history events."""
    bank.reset()
    return durasim.execute(bank.BankTransfer, "alice", "bob", 25,
                           faults=[Crash(node="worker", after_events=14)])


@pytest.fixture
def english() -> object:
    before = get_language()
    set_language("en")
    yield None
    set_language(before)


@activity
def charge(month: int) -> int:
    return month


@workflow
async def MonthlyCharges(ctx: durasim.engine.WorkflowContext, months: int) -> int:
    """A year of charges a month apart: hundreds of trace events."""
    total = 0
    for month in range(months):
        total += await ctx.activity(charge, month)
        await ctx.sleep(30 * 86400)
    return total


# -- timeline ----------------------------------------------------------------------------

def test_timeline_of_the_lost_deposit_shows_each_lane_step_and_the_crash(lost) -> None:
    story = tell(lost)
    assert story.lanes[:2] == ["client", "broker"]
    assert set(story.lanes) == {"client", "broker", "validation", "fraud", "bank_a",
                                "ledger", "bank_b", "notifications"}
    labels = [m.label for m in story.of_kind("step")]
    assert labels == ["1 validate", "2 fraud_check", "3 withdraw", "4 record_ledger",
                      "5 deposit"]
    (crash,) = story.of_kind("crash")
    assert crash.node == "bank_b"
    down = [s for s in story.spans if s.kind == "down"]
    assert [(s.node, s.start, s.end is not None) for s in down] == [("bank_b", crash.column,
                                                                     True)]
    assert any(a.label == "deposit" and a.dst == "bank_b" for a in story.arrows)
    figure = timeline(lost)
    assert isinstance(figure, Figure)
    png = to_png(figure)
    assert png.startswith(PNG)
    texts = {text.get_text() for text in figure.axes[0].texts}
    assert {"bank_b", "5 deposit", "crash"} <= texts


def test_drawing_never_changes_the_run(lost) -> None:
    digest, balances_before = lost.trace.digest(), dict(lost.balances)
    for draw in (timeline, architecture_graph, balances):
        to_png(draw(lost))
    history_view(lost)
    assert lost.trace.digest() == digest
    assert lost.balances == balances_before


def test_crash_free_and_crashed_runs_draw_different_pictures(lost) -> None:
    clean = run("transfer", "event_driven")
    assert tell(clean).of_kind("crash") == []
    assert to_png(timeline(clean)) != to_png(timeline(lost))


def test_simultaneous_events_on_different_nodes_share_a_column(lost) -> None:
    story = tell(lost)
    starts = [e for e in lost.trace.filter(kind="node_start", semantic=True)]
    assert len(starts) == 8 and len({e.time for e in starts}) == 1
    assert story.columns < len(lost.trace.filter(semantic=True))
    assert story.times == sorted(story.times)


def test_replay_after_a_worker_crash_is_shaded_and_counted(replayed) -> None:
    story = tell(replayed)
    assert [m.node for m in story.of_kind("crash")] == ["worker"]
    (replay,) = [s for s in story.spans if s.kind == "replay"]
    assert replay.node == "worker" and replay.label == "replay 17"
    assert [m.label for m in story.of_kind("step")][:3] == ["validate", "fraud_check",
                                                           "withdraw"]
    texts = {t.get_text() for t in timeline(replayed).axes[0].texts}
    assert "replay 17" in texts


def test_two_hundred_events_stay_readable_collapsed_and_zoomed(english) -> None:
    year = durasim.execute(MonthlyCharges, 12, faults=[Crash(node="worker", after_events=40)])
    events = year.trace.filter(semantic=True)
    assert len(events) > 200
    full = tell(year, collapse=False)
    story = tell(year)
    assert story.columns < full.columns < len(events)
    assert len(story.marks) < len(full.marks)
    assert len(story.gaps) >= 11  # every 30-day timer is marked as a gap, not drawn to scale
    figure = timeline(year)
    assert figure.get_figwidth() <= 22.0
    window = (30 * 86400.0, 95 * 86400.0)
    zoomed = tell(year, window=window)
    assert 0 < zoomed.columns < story.columns / 3
    assert all(window[0] <= m.time <= window[1] for m in zoomed.marks)
    assert to_png(timeline(year, window=window)).startswith(PNG)
    with pytest.raises(ValueError, match="before it starts"):
        tell(year, window=(10.0, 1.0))


def test_until_veils_the_future_without_moving_the_layout(lost) -> None:
    whole = timeline(lost)
    halfway = timeline(lost, until=0.02)
    assert whole.get_size_inches().tolist() == halfway.get_size_inches().tolist()
    assert any(t.get_text().startswith(" now") for t in halfway.axes[0].texts)
    assert to_png(whole) != to_png(halfway)


def test_timeline_refuses_what_is_not_a_run() -> None:
    with pytest.raises(TypeError, match="Run, WorkflowRun or Trace"):
        timeline("transfer")


# -- state over time and the architecture graph ------------------------------------------

def test_node_status_follows_crash_and_restart(lost) -> None:
    crash = lost.trace.filter(kind="crash", semantic=True)[0].time
    restart = lost.trace.filter(kind="restart", semantic=True)[0].time
    assert node_status(lost, crash - 1e-9)["bank_b"] is True
    assert node_status(lost, crash)["bank_b"] is False
    assert node_status(lost, restart)["bank_b"] is True


def test_queue_depths_show_a_message_stuck_with_a_dead_consumer() -> None:
    stuck = run("transfer", "event_driven", Crash(at_step=5, restart_after=None),
                at_least_once=True)
    deposit_sent = next(e.time for e in stuck.trace.filter(kind="receive", node="broker",
                                                           semantic=True)
                        if e.fields["msg"] == "publish" and e.fields["step"] == 5)
    assert queue_depths(stuck, deposit_sent)["deposit"] == 1
    assert queue_depths(stuck)["dead_letter"] == 1
    assert queue_depths(stuck, 1e9) == {**queue_depths(stuck, 1e9), "deposit": 0,
                                        "dead_letter": 1}


def test_architecture_graph_paints_the_crashed_node_red(lost) -> None:
    crash = lost.trace.filter(kind="crash", semantic=True)[0].time
    before = architecture_graph(lost, at=crash - 1e-6)
    during = architecture_graph(lost, at=crash)
    names = {t.get_text() for t in during.axes[0].texts}
    assert "bank_b ✖" in names and "bank_b ✖" not in {t.get_text() for t in before.axes[0].texts}
    assert "bob 50" in names and "alice 75 (-25)" in names
    assert "money out of the accounts: 25" in names  # nobody can know its fate yet
    assert to_png(before) != to_png(during)
    end = {t.get_text() for t in architecture_graph(lost).axes[0].texts}
    assert "money destroyed: 25" in end and "25 is missing" in str(lost.checks)


def test_complexity_figure_counts_the_pairs_that_can_talk() -> None:
    figure = complexity_figure(8)
    texts = [t.get_text() for ax in figure.axes for t in ax.texts]
    titles = [ax.get_title() for ax in figure.axes]
    assert any("28" in text for text in texts + titles)
    assert to_png(figure) != to_png(complexity_figure(4))
    for bad in (1, 41):
        with pytest.raises(ValueError, match="between 2 and 40"):
            complexity_figure(bad)
    with pytest.raises(TypeError):
        complexity_figure(True)


# -- balances ------------------------------------------------------------------------------

def test_balances_show_the_money_that_vanished(lost) -> None:
    moves = movements(lost)
    assert [(m.account, m.delta, m.step) for m in moves] == [("alice", -25, 3)]
    assert balances_at(lost, moves[0].time - 1e-9) == {"alice": 100, "bob": 50}
    assert balances_at(lost, moves[0].time) == {"alice": 75, "bob": 50}
    figure = balances(lost)
    labels = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert labels == ["alice: 100 → 75", "bob: 50 → 50", "money destroyed: 25"]


def test_balances_show_a_double_deposit_as_money_created() -> None:
    twice = run("transfer", "event_driven", Crash(at_step=5, when="after_effect"),
                at_least_once=True)
    assert [(m.account, m.delta) for m in movements(twice)] == [
        ("alice", -25), ("bob", 25), ("bob", 25)]
    labels = [t.get_text() for t in balances(twice).axes[0].get_legend().get_texts()]
    assert "money created: 25" in labels
    assert to_png(balances(twice, until=0.01)) != to_png(balances(twice))


def test_balances_need_the_bank(replayed) -> None:
    with pytest.raises(TypeError, match=r"durasim.run"):
        balances(replayed)


# -- history view --------------------------------------------------------------------------

def test_history_view_highlights_the_cursor_and_marks_the_replayed(replayed) -> None:
    assert replayed_events(replayed) == set(range(1, 18))
    page = history_view(replayed, compact=False, cursor=31)
    assert page.count("durasim-replayed") == 17
    assert 'class="durasim-highlight" data-event-id="31"' in page
    compact = history_view(replayed)
    assert "WorkflowTaskStarted" in page and "WorkflowTaskStarted" not in compact
    assert "durasim-highlight" not in compact


def test_history_view_says_when_there_is_no_history(lost, english) -> None:
    assert "only the durable engine" in history_view(lost)


# -- replay positions ----------------------------------------------------------------------

def test_replay_position_points_at_the_awaited_line(replayed) -> None:
    definition = durasim.engine.workflow_definition(bank.BankTransfer)
    deposit = next(e.event_id for e in replayed.history
                   if e.attributes.get("activityType") == "deposit")
    position = replay_to(definition, replayed.history, deposit)
    (frame,) = position.frames
    assert "ctx.activity(deposit" in frame.lines[frame.line - frame.first_line]
    assert position.locals == {"source": "'alice'", "target": "'bob'", "amount": "25"}
    assert position.line is not None and position.line.line == frame.line
    assert position.matched.startswith("ScheduleActivityTask(deposit")
    end = replay_to(definition, replayed.history, len(replayed.history))
    assert end.finished and end.frames == ()
    with pytest.raises(ValueError, match="between 1 and"):
        replay_to(definition, replayed.history, 0)


# -- moments, animation --------------------------------------------------------------------

def test_moments_stop_at_each_step_and_the_crash(lost) -> None:
    stops = moments(lost)
    assert stops[0].label.startswith("step 1 validate starts")
    crash = next(m for m in stops if "crash" in m.label)
    assert crash.node == "bank_b"
    assert [m.time for m in stops] == sorted({m.time for m in stops})
    assert stops[-1].label == "bank_b: restart"


def test_animation_plays_one_frame_per_moment(tmp_path: Path) -> None:
    rolled_back = run("transfer", "monolith", Crash(at_step=5))
    frames = len(moments(rolled_back))
    path = save_gif(rolled_back, tmp_path / "monolith.gif")
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.n_frames == frames
        gif.seek(0)
        first = gif.convert("RGB").tobytes()
        gif.seek(frames - 1)
        assert gif.convert("RGB").tobytes() != first
    page = to_jshtml(rolled_back, max_frames=3)
    assert page.count("data:image/png;base64") == 3
    with pytest.raises(ValueError):
        animate(rolled_back, max_frames=0)


# -- style and language --------------------------------------------------------------------

def test_nodes_get_a_kind_and_a_lane_order() -> None:
    assert [node_kind(n) for n in ("client", "broker", "worker", "server", "app", "bank_a",
                                   "ledger-db")] == [
        "client", "broker", "worker", "server", "app", "service", "database"]
    assert lane_order(["bank_a", "worker", "client", "server"]) == [
        "client", "server", "worker", "bank_a"]
    assert [format_time(x) for x in (0.0042, 0.9999, 4.0, 90.0, 7200.0, 30 * 86400.0)] == [
        "4.2 ms", "1.00 s", "4.00 s", "1.5 min", "2.0 h", "30.0 d"]


def test_labels_speak_english_and_spanish(english) -> None:
    assert t("run") == "Run"
    set_language("es")
    assert t("run") == "Ejecutar"
    assert t("microservices", n=4) == "4 microservicios"
    assert "Saldos" in balances(run("transfer", "monolith")).axes[0].get_title(loc="left")
    with pytest.raises(ValueError, match="en, es"):
        set_language("fr")
    assert get_language() == "es"
    for key in keys():
        for language in LANGUAGES:
            set_language(language)
            assert t(key).strip(), (key, language)


def test_png_bytes_are_an_image() -> None:
    png = to_png(complexity_figure(3))
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG" and image.width > 500


def test_figures_show_themselves_in_jupyter_without_pyplot(lost) -> None:
    assert timeline(lost)._repr_png_().startswith(PNG)  # type: ignore[attr-defined]


def test_history_view_can_show_only_the_rows_around_the_cursor(replayed) -> None:
    page = history_view(replayed, compact=False, cursor=30, rows=10)
    shown = [int(part.split('"')[0]) for part in page.split('data-event-id="')[1:]]
    assert len(shown) == 10 and 30 in shown and shown == sorted(shown)
    assert f"{shown[0]}–{shown[-1]} / {len(replayed.history)}" in page


# -- the events of the six characteristics (issue 13.7) -----------------------------------

def _rows(page: str, kind: str) -> list[int]:
    """Ids of the history rows tagged as ``kind``."""
    return [int(part.split('data-event-id="')[1].split('"')[0])
            for part in page.split("<tr ")[1:] if f"durasim-kind-{kind}" in part]


def test_history_view_tags_cancellations_updates_markers_and_task_retries(english) -> None:
    from durasim.engine import Cancel, Update
    from tests.workflows import features as wf

    canceled = durasim.execute(wf.OrderWorkflow, "order-42", requests=[Cancel(at=1.0)])
    page = history_view(canceled, compact=False)
    kinds = {e.event_id: e.event_type.value for e in canceled.history}
    assert [kinds[i] for i in _rows(page, "cancel")] == [
        "WorkflowExecutionCancelRequested", "TimerCanceled", "WorkflowExecutionCanceled"]
    assert ">cancel requested</span>" in page and ">timer canceled</span>" in page
    assert "border-left:4px solid" in page and "cancellation</span></div>" in page  # legend

    saved = durasim.execute(wf.SavingsWorkflow, 100, requests=[
        Update("deposit", -5, at=1.0), Update("deposit", 100, at=1.5)])
    page = history_view(saved)
    assert len(_rows(page, "update")) == 2  # the refused update wrote nothing
    assert "update deposit([100])" in page and "update -&gt; 100" in page

    local = history_view(durasim.execute(wf.ConvertWorkflow, 100))
    assert _rows(local, "local_activity") and "local activity convert_currency -&gt; 92.0" in local
    patched = history_view(durasim.execute(wf.DeprecatedPatchPayment, 40))
    assert _rows(patched, "patch") and "patch send-receipt (deprecated)" in patched

    buggy = History.from_temporal_json(RECORDED / "workflow_bug_first_task.json")
    page = history_view(buggy, compact=False)
    assert _rows(page, "task_retry") == [4, 5]  # the failed task, and its retry (attempt 3)
    routine = page.split('data-event-id="2"')[1].split("</tr>")[0]
    assert "durasim-tag" not in routine  # the first, routine task stays grey


def test_history_view_says_which_timeout_ended_an_attempt(english) -> None:
    from tests.workflows import features as wf

    timeouts = durasim.execute(wf.ActivityTimeouts)
    page = history_view(timeouts)
    assert len(_rows(page, "timeout")) == 2
    assert ">start-to-close timeout</span>" in page and ">heartbeat timeout</span>" in page
    assert "heartbeat timeout, last heartbeat [&#x27;halfway&#x27;]" in page
    killed = durasim.execute(wf.SendFileWorkflow, 8, activity_worker=True,
                             faults=Crash(node="activity_worker", at_time=2.2))
    started = next(e for e in killed.history if e.event_type.value == "ActivityTaskStarted")
    page = history_view(killed)
    assert _rows(page, "timeout") == [started.event_id]  # attempt 2, after the timeout
    assert "attempt 2" in page.split(f'data-event-id="{started.event_id}"')[1].split("</tr>")[0]
    set_language("es")
    assert ">timeout de latido</span>" in history_view(killed)


def test_timeline_draws_heartbeats_and_the_heartbeat_timeout_when_it_happens(english) -> None:
    from tests.workflows import features as wf

    killed = durasim.execute(wf.SendFileWorkflow, 8, activity_worker=True,
                             faults=Crash(node="activity_worker", at_time=2.2))
    story = tell(killed)
    beats = [a for a in story.arrows if a.label == "ActivityHeartbeat"]
    assert beats and all(a.src == "activity_worker" and a.dst == "server" for a in beats)
    (timeout,) = story.of_kind("timeout")
    retry = next(e for e in killed.trace.filter(kind="retry"))
    assert timeout.node == "server" and timeout.time == retry.time
    assert timeout.label == "heartbeat timeout → retry 2"
    assert not story.of_kind("retry")  # the timeout mark says it
    legend = [x.get_text() for x in timeline(killed).axes[0].get_legend().get_texts()]
    assert "heartbeat" in legend and "timeout" in legend
    set_language("es")
    assert tell(killed).of_kind("timeout")[0].label == "timeout de latido → reintento 2"


def test_timeline_marks_each_step_of_a_cancellation_and_an_update(english) -> None:
    from durasim.engine import Cancel, Update
    from tests.workflows import features as wf

    canceled = tell(durasim.execute(wf.OrderWorkflow, "order-42", requests=[Cancel(at=1.0)]))
    assert [m.label for m in canceled.of_kind("cancel")] == [
        "cancel requested", "timer canceled", "canceled"]
    assert all(m.node == "server" for m in canceled.of_kind("cancel"))
    saved = tell(durasim.execute(wf.SavingsWorkflow, 100, requests=[
        Update("deposit", 100, at=1.0)]))
    assert [m.label for m in saved.of_kind("update")] == ["update", "update"]
    local = tell(durasim.execute(wf.ConvertWorkflow, 100))
    assert [m.label for m in local.of_kind("local_activity")] == ["local activity"]
    plain = tell(durasim.execute(wf.PaymentReminder, 100))
    assert [m.label for m in plain.of_kind("cancel")] == ["timer canceled"]
    assert not plain.of_kind("timeout") and not plain.of_kind("update")
