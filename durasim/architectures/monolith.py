"""The monolith: one process, one database, the whole business process in one transaction.

This is the talk's starting point and its strongest property: a local transaction makes
the transfer all-or-nothing. A crash at any step before the commit rolls everything back,
so money is never lost. What the talk glosses over is shown too: once the transaction
commits, the answer still has to travel back to the caller, and if the app crashes (or the
reply is lost) the caller only sees a timeout. It cannot tell a rolled-back transfer from a
committed one, and retrying without an idempotency key then transfers twice.

Nodes: ``client`` (sends the request, waits ``client_timeout`` seconds, retries
``client_retries`` times) and ``app`` (the process and its SQLite database). The request's
message kind is the scenario's name ("transfer"); the answer's is "reply".
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from durasim.architectures.base import Architecture, Run, World
from durasim.architectures.messaging import (
    ServiceTimeout,
    enable_replies,
    reply,
    request,
)
from durasim.architectures.operations import (
    ServiceError,
    apply_op,
)
from durasim.architectures.services import ServiceNode
from durasim.architectures.state import (
    Caller,
    Effect,
    ProcessRows,
    RunState,
    collect_state,
)
from durasim.faults import FaultPlan
from durasim.injector import activity_instance
from durasim.node import Node
from durasim.scenarios import Scenario


class Monolith(Architecture):
    """One app, one SQLite database, one transaction per request.

    Options:
        client_timeout: seconds the client waits for the answer.
        client_retries: how many times the client asks again after a timeout (or a
            transient error). Without an idempotency key a retry after a lost answer runs
            the whole transfer a second time.
        idempotency_key: the client sends a key; the app stores it in the same
            transaction and answers a repeated key with the first answer.
    """

    name = "monolith"
    title = "Monolith: one process, one database, one transaction"
    options: ClassVar[Mapping[str, Any]] = {"client_timeout": 5.0, "client_retries": 0,
                                            "idempotency_key": False}
    option_help: ClassVar[Mapping[str, str]] = {
        "client_timeout": "seconds the client waits for the answer",
        "client_retries": "times the client asks again after a timeout",
        "idempotency_key": "the app answers a repeated request with the first answer",
    }
    default_node = "app"

    def simulate(self, scenario: Scenario, plan: FaultPlan, seed: int,
                 options: dict[str, Any]) -> Run:
        """Build client and app, run the request, and read the database."""
        world = World(scenario, plan, seed, default_node="app")
        bank = self.bank(world, options)
        state = self.play(world, bank, scenario)
        state = dataclasses.replace(state, caller=bank.caller(scenario, state.effects))
        outcome, explanation = bank.verdict(scenario, state)
        answer = (state.caller.reply if state.caller else None) or {}
        return Run(scenario=scenario, architecture=self.name, options=options, faults=plan,
                   seed=seed, trace=world.sim.trace, state=state, outcome=outcome,
                   logs=world.logs, result=answer.get("result"), explanation=explanation,
                   unfired=list(world.injector.unfired))

    def bank(self, world: World, options: dict[str, Any]) -> MonolithBank:
        """The app and its client on ``world``, ready to be asked for processes."""
        return MonolithBank(world, options)


class MonolithBank:
    """The client and the app of one world; the client asks for each process begun.

    Attributes:
        callers: business reference -> what its caller heard so far (``answered``,
            ``reply``, ``attempts``).
        rolled_back: references whose transaction was rolled back (a crash in the middle
            of it, or a refusal).
    """

    def __init__(self, world: World, options: dict[str, Any]) -> None:
        self.world = world
        self.options = options
        self.callers: dict[str, dict[str, Any]] = {}
        self.arrivals: list[tuple[float, Scenario]] = []
        self.rolled_back: set[str] = set()
        self._open: str | None = None
        """The reference whose transaction is open (the app serves one at a time)."""
        scenario = world.scenario
        self.app = ServiceNode(world, "app", accounts=scenario.accounts,
                               stock=scenario.params.get("stock", {}), loops=(self._serve,))
        self.app.on_crash.append(self._crashed)
        self.client = world.add(Node(world.sim, "client"))
        enable_replies(self.client)
        self.client.on_start = self._start_client

    def begin(self, process: Scenario, at: float = 0.0) -> None:
        """The client will ask for ``process`` at virtual time ``at``."""
        self.callers[process.key] = {"answered": False, "reply": None, "attempts": 0}
        self.arrivals.append((at, process))

    def _start_client(self, me: Node) -> None:
        me.spawn(self._arrive(me), "arrivals")

    async def _arrive(self, me: Node) -> None:
        """Ask for each process when it arrives (a restarted client, keeping no record,
        asks again for those that arrived before)."""
        sim = self.world.sim
        for at, process in sorted(self.arrivals, key=lambda arrival: arrival[0]):
            if at > sim.now:
                await sim.timeout(at - sim.now)
            me.spawn(_client(self.world, me, self.options, self.callers[process.key],
                             process), "client")

    def _crashed(self, app: Node) -> None:
        if self._open is not None:
            self.rolled_back.add(self._open)
            self._open = None

    async def _serve(self, app: ServiceNode) -> None:
        """Serve requests one at a time, each as one transaction over every step."""
        while True:
            message = await app.inbox.get()
            body = message.payload or {}
            process = self.world.process(body.get("ref"))
            self._open = process.key
            answer = await _transaction(app, process, body.get("key"))
            if self._open == process.key and not answer.get("ok", True):
                self.rolled_back.add(process.key)
            self._open = None
            reply(app.world.net, app, message, answer)

    def read(self) -> RunState:
        """The app's database after the run (nothing waits anywhere else)."""
        return collect_state({"app": self.app})

    def caller(self, process: Scenario, effects: Sequence[Effect]) -> Caller:
        """What ``process``'s caller heard, and whether its transaction committed
        (``effects``: the process's effects, or all of them)."""
        heard = self.callers[process.key]
        return Caller(heard["answered"], heard["reply"], heard["attempts"],
                      applied=any(e.ref == process.key for e in effects))

    def verdict(self, process: Scenario, state: RunState,
                rows: ProcessRows | None = None) -> tuple[str, str]:
        """The outcome word for ``process`` and the sentence explaining it."""
        caller = self.caller(process, rows.effects if rows is not None else state.effects)
        noun, tries = process.noun, caller.attempts
        after = f" after {tries} attempts" if tries > 1 else ""
        if caller.answered and caller.reply is not None:
            answer = caller.reply
            if answer["ok"]:
                return "completed", (f"The app ran every step in one transaction and "
                                     f"committed; the client got the answer{after}.")
            return "failed", (f"Step {answer['step']} refused ({answer['reason']}): the "
                              f"transaction rolled back, nothing changed, and the client was "
                              f"told{after}.")
        if caller.applied:
            return "unknown to caller", (
                f"The transaction committed, but the answer never reached the client: it "
                f"timed out{after} and does not know the {noun} happened.")
        if process.key in self.rolled_back:
            return "rolled back", (
                "The app crashed in the middle of the transaction; the database rolled it "
                "back, so nothing changed, but the client only saw a timeout.")
        return "lost", (f"The request never got through; nothing happened and the client "
                        f"only saw a timeout{after}.")


async def _client(world: World, me: Node, options: dict[str, Any],
                  caller: dict[str, Any], process: Scenario) -> None:
    """Ask once for ``process``, then again after each timeout while retries are left."""
    key = f"{process.key}-request" if options["idempotency_key"] else None
    for attempt in range(1, options["client_retries"] + 2):
        caller["attempts"] = attempt
        world.log(me.name, f"attempt {attempt}: asking the app to run {process.noun} "
                           f"{process.key}" + (f" (idempotency key {key})" if key else ""))
        try:
            message = await request(world.net, me, "app", process.name,
                                    {"ref": process.key, "key": key}, step=None,
                                    timeout=options["client_timeout"])
        except ServiceTimeout:
            world.log(me.name, f"no answer within {options['client_timeout']:g} s: did it "
                               "happen or not?")
            continue
        answer = message.payload
        caller.update(answered=True, reply=answer)
        world.log(me.name, "answer: " + ("ok" if answer["ok"] else answer["error"]))
        if answer["ok"] or not answer.get("retryable"):
            return


async def _transaction(app: ServiceNode, process: Scenario, key: str | None
                       ) -> dict[str, Any]:
    """Run every step of ``process`` inside one transaction; nothing is visible until the
    commit.

    Each step's ``before_effect`` point follows its statements; its ``after_effect`` point
    follows them too, still inside the open transaction, except for the last step, whose
    ``after_effect`` comes after the commit and before the answer is sent.
    """
    world, sim, conn = app.world, app.sim, app.db
    scenario, ref = world.scenario, process.key
    steps = [s for s in scenario.steps if s.kind == "activity"]
    conn.execute("BEGIN IMMEDIATE")
    if key is not None:
        row = conn.execute("SELECT result FROM processed WHERE key = ?", (key,)).fetchone()
        if row is not None:
            conn.execute("ROLLBACK")
            app.log(f"key {key} already processed: answering with the first answer")
            first: dict[str, Any] = json.loads(row[0])
            return first
    app.log(f"BEGIN {scenario.noun} {ref}")
    results: dict[str, Any] = {}
    answer = {"ok": True, "result": results, "error": "", "retryable": False}
    for step in steps:
        sim.record(app.name, "step", step=step.number, name=step.name, phase="start", ref=ref)
        await sim.timeout(world.service_time)
        try:
            if world.injector.activity_fails(step.name, activity_instance(ref, step.name)):
                raise ServiceError(step.op, "injected failure (FailActivity)", retryable=True)
            results[step.name] = apply_op(conn, step.op, process.args_for(step), ref=ref,
                                          step=step.number, name=step.name)
        except ServiceError as exc:
            conn.execute("ROLLBACK")
            sim.record(app.name, "rollback", step=step.number, name=step.name,
                       reason=exc.reason)
            app.log(f"step {step.label} failed ({exc.reason}): ROLLBACK, nothing changed")
            return {"ok": False, "result": None, "error": f"step {step.label}: {exc.reason}",
                    "retryable": exc.retryable, "step": step.label, "reason": exc.reason}
        app.log(f"step {step.label}: done inside the transaction (not visible yet)")
        world.injector.at_step(app.name, step.number, step.name, "before_effect", ref=ref)
        if step is steps[-1]:
            if key is not None:
                conn.execute("INSERT INTO processed(key, result) VALUES (?, ?)",
                             (key, json.dumps(answer)))
            conn.execute("COMMIT")
            sim.record(app.name, "commit", ref=ref, steps=len(steps))
            for done in steps:
                sim.record(app.name, "step", step=done.number, name=done.name, phase="effect",
                           ref=ref)
            app.log(f"COMMIT {scenario.noun} {ref}: every step is now visible at once")
        world.injector.at_step(app.name, step.number, step.name, "after_effect", ref=ref)
    for done in steps:
        sim.record(app.name, "step", step=done.number, name=done.name, phase="done", ref=ref)
    return answer
