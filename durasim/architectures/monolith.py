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
from collections.abc import Mapping
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
from durasim.architectures.state import Caller, collect_state
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
        caller: dict[str, Any] = {"answered": False, "reply": None, "attempts": 0}
        stock = scenario.params.get("stock", {})
        app = ServiceNode(world, "app", accounts=scenario.accounts, stock=stock,
                          loops=(_serve,))
        client = world.add(Node(world.sim, "client"))
        enable_replies(client)

        def start_client(me: Node) -> None:
            me.spawn(_client(world, me, options, caller), "client")

        client.on_start = start_client
        world.check_plan(self.name, history=False)
        try:
            world.start()
            world.run()
            state = collect_state({"app": app})
        finally:
            world.close()
        heard = Caller(caller["answered"], caller["reply"], caller["attempts"],
                       applied=any(e.ref == scenario.key for e in state.effects))
        state = dataclasses.replace(state, caller=heard)
        outcome, explanation = _verdict(world, heard)
        answer = heard.reply or {}
        return Run(scenario=scenario, architecture=self.name, options=options, faults=plan,
                   seed=seed, trace=world.sim.trace, state=state, outcome=outcome,
                   logs=world.logs, result=answer.get("result"), explanation=explanation,
                   unfired=list(world.injector.unfired))


async def _client(world: World, me: Node, options: dict[str, Any],
                  caller: dict[str, Any]) -> None:
    """Ask once, then again after each timeout while retries are left."""
    scenario = world.scenario
    key = f"{scenario.key}-request" if options["idempotency_key"] else None
    for attempt in range(1, options["client_retries"] + 2):
        caller["attempts"] = attempt
        world.log(me.name, f"attempt {attempt}: asking the app to run {scenario.noun} "
                           f"{scenario.key}" + (f" (idempotency key {key})" if key else ""))
        try:
            message = await request(world.net, me, "app", scenario.name,
                                    {"ref": scenario.key, "key": key}, step=None,
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


async def _serve(app: ServiceNode) -> None:
    """Serve requests one at a time, each as one transaction over every step."""
    while True:
        message = await app.inbox.get()
        answer = await _transaction(app, (message.payload or {}).get("key"))
        if answer is not None:
            reply(app.world.net, app, message, answer)


async def _transaction(app: ServiceNode, key: str | None) -> dict[str, Any]:
    """Run every step inside one transaction; nothing is visible until the commit.

    Each step's ``before_effect`` point follows its statements; its ``after_effect`` point
    follows them too, still inside the open transaction, except for the last step, whose
    ``after_effect`` comes after the commit and before the answer is sent.
    """
    world, sim, conn = app.world, app.sim, app.db
    scenario, ref = world.scenario, world.scenario.key
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
            results[step.name] = apply_op(conn, step.op, scenario.args_for(step), ref=ref,
                                          step=step.number, name=step.name)
        except ServiceError as exc:
            conn.execute("ROLLBACK")
            sim.record(app.name, "rollback", step=step.number, name=step.name,
                       reason=exc.reason)
            app.log(f"step {step.label} failed ({exc.reason}): ROLLBACK, nothing changed")
            return {"ok": False, "result": None, "error": f"step {step.label}: {exc.reason}",
                    "retryable": exc.retryable, "step": step.label, "reason": exc.reason}
        app.log(f"step {step.label}: done inside the transaction (not visible yet)")
        world.injector.at_step(app.name, step.number, step.name, "before_effect")
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
        world.injector.at_step(app.name, step.number, step.name, "after_effect")
    for done in steps:
        sim.record(app.name, "step", step=done.number, name=done.name, phase="done", ref=ref)
    return answer


def _verdict(world: World, caller: Caller) -> tuple[str, str]:
    """The outcome word and the sentence explaining it."""
    scenario = world.scenario
    noun, tries = scenario.noun, caller.attempts
    after = f" after {tries} attempts" if tries > 1 else ""
    if caller.answered and caller.reply is not None:
        answer = caller.reply
        if answer["ok"]:
            return "completed", (f"The app ran every step in one transaction and committed; "
                                 f"the client got the answer{after}.")
        return "failed", (f"Step {answer['step']} refused ({answer['reason']}): the "
                          f"transaction rolled back, nothing changed, and the client was "
                          f"told{after}.")
    if caller.applied:
        return "unknown to caller", (
            f"The transaction committed, but the answer never reached the client: it timed "
            f"out{after} and does not know the {noun} happened.")
    if world.sim.trace.filter(node="app", kind="rollback"):
        return "rolled back", (
            "The app crashed in the middle of the transaction; the database rolled it back, "
            "so nothing changed, but the client only saw a timeout.")
    return "lost", (f"The request never got through; nothing happened and the client only "
                    f"saw a timeout{after}.")
