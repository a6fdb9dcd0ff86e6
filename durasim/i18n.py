"""Labels in English and Spanish, so the same widgets and figures serve both talks.

The talk is given in Spanish and in English; the widgets and pictures students look at
should speak the language of the room. ``durasim.set_language("es")`` switches every label
built afterwards; :func:`t` looks one up. Only labels are translated: the names of steps,
nodes and Temporal's event types stay as they are, because they are what students will
meet in code and in the real platform.
"""

from __future__ import annotations

from typing import Any

LANGUAGES: tuple[str, ...] = ("en", "es")
"""The languages durasim speaks, English first (the default)."""

_LABELS: dict[str, tuple[str, str]] = {
    # widgets: controls
    "architecture": ("Architecture", "Arquitectura"),
    "seed": ("Seed", "Semilla"),
    "crash_step": ("Crash at step", "Caída en el paso"),
    "no_crash": ("no crash", "sin caída"),
    "node": ("Node", "Nodo"),
    "executing_node": ("the node running the step", "el nodo que ejecuta el paso"),
    "when": ("When", "Cuándo"),
    "before_effect": ("before the effect", "antes del efecto"),
    "after_effect": ("after the effect", "después del efecto"),
    "run": ("Run", "Ejecutar"),
    "step": ("Step", "Paso"),
    "step_back": ("Step back", "Paso atrás"),
    "crash_now": ("Crash now", "Caer ahora"),
    "restart": ("Restart", "Reiniciar"),
    "reset": ("Reset", "Reiniciar todo"),
    "outbox": ("outbox", "outbox"),
    "at_least_once": ("at least once (ack after processing)",
                      "al menos una vez (ack tras procesar)"),
    "idempotent_consumers": ("idempotent consumers", "consumidores idempotentes"),
    "idempotent_activities": ("idempotent activities", "actividades idempotentes"),
    "compact": ("compact history", "historial compacto"),
    "event": ("History event", "Evento del historial"),
    "crash_after_event": ("Crash after event (0: no crash)",
                          "Caída tras el evento (0: sin caída)"),
    # widgets: what they say
    "checks": ("Checks", "Comprobaciones"),
    "outcome": ("Outcome", "Resultado"),
    "balances": ("Balances", "Saldos"),
    "history": ("Event history", "Historial de eventos"),
    "no_history": ("This architecture keeps no event history: only the durable engine does.",
                   "Esta arquitectura no guarda historial de eventos: solo el motor durable."),
    "at_time": ("at {time}", "en {time}"),
    "showing_until": ("Showing the run up to {time} ({where}).",
                      "Mostrando la ejecución hasta {time} ({where})."),
    "showing_all": ("Showing the whole run.", "Mostrando toda la ejecución."),
    "resimulated": ("Re-simulated from the start: same seed, same plan, same trace.",
                    "Re-simulado desde el principio: misma semilla, mismo plan, misma traza."),
    "plan": ("Fault plan", "Plan de fallos"),
    "no_faults": ("no faults", "sin fallos"),
    "nothing_to_restart": ("No crashed node to restart at this point.",
                           "No hay ningún nodo caído que reiniciar en este punto."),
    "at_start": ("Already at the start.", "Ya estamos al principio."),
    "at_end": ("Already at the end of the run.", "Ya estamos al final de la ejecución."),
    "error": ("Error", "Error"),
    "not_run": ("not run", "no ejecutado"),
    "replaying": ("replaying (matching recorded commands)",
                  "re-ejecutando (comparando con los comandos grabados)"),
    "executing": ("executing new code", "ejecutando código nuevo"),
    "finished": ("the workflow has returned", "el workflow ha terminado"),
    "matched": ("matches the command", "coincide con el comando"),
    "locals": ("Workflow state", "Estado del workflow"),
    "source": ("Workflow code", "Código del workflow"),
    "commands": ("Commands issued", "Comandos emitidos"),
    "nondeterminism": ("Replay failed", "La re-ejecución falló"),
    # figures
    "timeline_title": ("What happened, node by node", "Qué pasó, nodo a nodo"),
    "virtual_time": ("virtual time", "tiempo virtual"),
    "crash": ("crash", "caída"),
    "down": ("node down", "nodo caído"),
    "replay": ("replay", "re-ejecución"),
    "replays": ("replays", "re-ejecuciones"),
    "effect": ("effect committed", "efecto confirmado"),
    "rollback": ("rollback", "rollback"),
    "failed": ("activity attempt failed", "intento de actividad fallido"),
    "lost": ("message lost", "mensaje perdido"),
    "redeliver": ("redelivery", "reentrega"),
    "dead_letter": ("dead letter", "mensaje muerto"),
    "now": ("now", "ahora"),
    # the events of the six characteristics, as the history view and the timeline name them
    "kind_timeout": ("timeout", "timeout"),
    "kind_cancel": ("cancellation", "cancelación"),
    "kind_update": ("update", "actualización"),
    "kind_signal": ("signal", "señal"),
    "kind_local_activity": ("local activity", "actividad local"),
    "kind_patch": ("patch", "parche"),
    "kind_marker": ("marker", "marcador"),
    "kind_task_retry": ("workflow task retried", "tarea de workflow reintentada"),
    "timeout_heartbeat": ("heartbeat timeout", "timeout de latido"),
    "timeout_start-to-close": ("start-to-close timeout", "timeout start-to-close"),
    "timeout_schedule-to-close": ("schedule-to-close timeout", "timeout schedule-to-close"),
    "timeout_schedule-to-start": ("schedule-to-start timeout", "timeout schedule-to-start"),
    "cancel_requested": ("cancel requested", "cancelación pedida"),
    "timer_canceled": ("timer canceled", "temporizador cancelado"),
    "canceled": ("canceled", "cancelado"),
    "heartbeat": ("heartbeat", "latido"),
    "retry_n": ("retry {n}", "reintento {n}"),
    "task_failed": ("workflow task failed", "tarea de workflow fallida"),
    "in_flight": ("money in flight", "dinero en tránsito"),
    "total": ("total", "total"),
    "created": ("money created", "dinero creado"),
    "destroyed": ("money destroyed", "dinero destruido"),
    "out_of_accounts": ("money out of the accounts", "dinero fuera de las cuentas"),
    "balances_title": ("Balances over time", "Saldos a lo largo del tiempo"),
    "graph_title": ("The system", "El sistema"),
    "queues": ("queues", "colas"),
    "history_events": ("history: {n} events", "historial: {n} eventos"),
    "monolith": ("Monolith", "Monolito"),
    "microservices": ("{n} microservices", "{n} microservicios"),
    "in_process": ("one process: no network between the parts",
                   "un proceso: sin red entre las partes"),
    "interactions": ("possible interactions: {n}", "interacciones posibles: {n}"),
    "interactions_axis": ("possible interactions", "interacciones posibles"),
    "services_axis": ("services", "servicios"),
    "complexity_title": ("One process or many: the interactions grow",
                         "Un proceso o muchos: las interacciones crecen"),
    # a bank's day
    "day_title": ("A day at the bank: {n} transfers, {c} crashes",
                  "Un día en el banco: {n} transferencias, {c} caídas"),
    "day_transfers": ("transfers", "transferencias"),
    "day_money": ("{created} created, {destroyed} destroyed",
                  "{created} creado, {destroyed} destruido"),
    # the terminal demo and the narrated timeline
    "demo_title": ("durasim demo: {title}", "durasim demo: {title}"),
    "demo_story": ("The same crash on three architectures: the process running step {step} "
                   "crashes {moment}, and restarts 1 s later.",
                   "La misma caída en tres arquitecturas: el proceso que ejecuta el paso "
                   "{step} se cae {moment}, y reinicia 1 s después."),
    "moment_before_effect": ("before its effect commits", "antes de confirmar su efecto"),
    "moment_after_effect": ("right after its effect commits",
                            "justo después de confirmar su efecto"),
    "demo_crashes": ("crashes", "se cae"),
    "demo_next": ("Press Enter for the next architecture", "Enter: siguiente arquitectura"),
    "demo_pictures": ("Pictures", "Imágenes"),
    "demo_time": ("simulated in {s:.2f} s of real time", "simulado en {s:.2f} s reales"),
    "tl_time": ("time", "tiempo"),
    "tl_what": ("what happened", "qué pasó"),
    "tl_committed": ("step {step} {name}: committed", "paso {step} {name}: confirmado"),
    "tl_crash": ("CRASH: its memory is gone", "CAÍDA: pierde la memoria"),
    "tl_restart": ("restarts (incarnation {n})", "reinicia (encarnación {n})"),
    "tl_rollback": ("the transaction rolls back", "la transacción se revierte"),
    "tl_replay": ("replays {n} history events to rebuild the workflow",
                  "re-ejecuta {n} eventos del historial y reconstruye el workflow"),
    "tl_recover": ("rebuilds the workflow from {n} stored events",
                   "reconstruye el workflow con {n} eventos guardados"),
    "tl_redeliver": ("redelivers an unacknowledged message",
                     "reentrega un mensaje sin confirmar"),
    "tl_dead_letter": ("moves a message to the dead-letter queue",
                       "manda un mensaje a la cola de mensajes muertos"),
    "tl_retry": ("retries {activity} (attempt {n})", "reintenta {activity} (intento {n})"),
    "tl_more": ("... ({n} more events in the trace)", "... ({n} eventos más en la traza)"),
    "why": ("Why", "Por qué"),
    # the predict widget
    "reveal": ("Reveal", "Revelar"),
    "predict_question": ("Before it runs: what will happen to each account's money? "
                         "({accounts})",
                         "Antes de ejecutar: ¿qué le pasará al dinero de cada cuenta? "
                         "({accounts})"),
    "predict_first": ("Pick a change for every account first.",
                      "Primero elige un cambio para cada cuenta."),
    "predict_right": ("Right!", "¡Correcto!"),
    "predict_wrong": ("Not this time: look at what really happened, and why.",
                      "Esta vez no: mira lo que pasó de verdad, y por qué."),
    "predict_you": ("you said", "dijiste"),
    "predict_calls": ("Before it runs: how many times will each activity run?",
                      "Antes de ejecutar: ¿cuántas veces va a correr cada actividad?"),
    "predict_ran": ("ran", "corrió"),
    "why_calls": ("workflow code runs once in effect: after a crash the worker replays it "
                  "against the history instead of calling the activities again; an "
                  "activity runs again only when its completion was not recorded before "
                  "the crash (activities are at least once)",
                  "el código del workflow corre una sola vez en efecto: después de una "
                  "caída el worker lo re-ejecuta contra el historial en vez de volver a "
                  "llamar a las actividades; una actividad vuelve a correr solo si su "
                  "finalización no quedó registrada antes de la caída (las actividades son "
                  "al menos una vez)"),
    "wait_start_to_close": (
        "Why nothing happens from {start} to {end}: {what}'s attempt was running on the "
        "worker that crashed; the server only learns it when the attempt's start-to-close "
        "timeout ({limit}) expires, and then retries it.",
        "Por qué no pasa nada de {start} a {end}: el intento de {what} corría en el worker "
        "que se cayó; el servidor se entera recién cuando vence el timeout start-to-close "
        "del intento ({limit}), y entonces lo reintenta."),
    "wait_sticky": (
        "Why nothing happens from {start} to {end}: the next workflow task went to the "
        "crashed worker's sticky queue; after the sticky queue's schedule-to-start timeout "
        "({limit}) it moves to the normal queue and a worker replays the history.",
        "Por qué no pasa nada de {start} a {end}: la siguiente tarea del workflow fue a la "
        "cola sticky del worker caído; al vencer el timeout schedule-to-start de esa cola "
        "({limit}) pasa a la cola normal y un worker re-ejecuta el historial."),
    "wait_workflow_task": (
        "Why nothing happens from {start} to {end}: the workflow task was running on the "
        "worker that crashed; the server only learns it when the task's start-to-close "
        "timeout ({limit}) expires, and then hands it out again (attempt 2) to a worker "
        "that replays the history.",
        "Por qué no pasa nada de {start} a {end}: la tarea del workflow corría en el worker "
        "que se cayó; el servidor se entera recién cuando vence su timeout start-to-close "
        "({limit}), y entonces la entrega de nuevo (intento 2) a un worker que re-ejecuta "
        "el historial."),
    "why_monolith": ("one database transaction holds every step, so a crash before the "
                     "commit rolls all of it back",
                     "una sola transacción de base de datos contiene todos los pasos, así "
                     "que una caída antes del commit revierte todo"),
    "why_event_driven": ("each service commits on its own and passes an event on; a crash "
                         "between the commit and the event (or after an early "
                         "acknowledgement) loses or repeats a step, and nobody owns the "
                         "whole transfer",
                         "cada servicio confirma por su cuenta y pasa un evento; una caída "
                         "entre la confirmación y el evento (o después de un ack temprano) "
                         "pierde o repite un paso, y nadie es dueño de la transferencia "
                         "completa"),
    "why_durable": ("the engine's history remembers every completed step; after a crash it "
                    "replays the history and retries only what had not been recorded",
                    "el historial del motor recuerda cada paso completado; después de una "
                    "caída lo re-ejecuta y reintenta solo lo que no estaba registrado"),
    # the checks, one headline each (English shows the checks' own sentences)
    "check_money_conserved_ok": ("Money is conserved.", "El dinero se conserva."),
    "check_money_conserved_fail": ("Money is not conserved.",
                                   "El dinero no se conserva: {change}."),
    "check_exactly_once_ok": ("Applied exactly once, or not at all.",
                              "Se aplicó exactamente una vez, o ninguna."),
    "check_exactly_once_fail": ("Not applied exactly once.",
                                "No se aplicó exactamente una vez: algún efecto se repitió "
                                "o quedó a medias."),
    "check_nothing_stuck_ok": ("Nothing is stuck.", "Nada quedó atascado."),
    "check_nothing_stuck_fail": ("Something is stuck.", "Algo quedó atascado en camino."),
    "check_same_outcome_ok": ("Same outcome as without the faults.",
                              "El mismo resultado que sin fallas."),
    "check_same_outcome_fail": ("Not the outcome of the run without faults.",
                                "No es el resultado de la ejecución sin fallas."),
    "check_caller_informed_ok": ("The caller learned what happened.",
                                 "Quien pidió la operación supo qué pasó."),
    "check_caller_informed_fail": ("The caller never learned what happened.",
                                   "Quien pidió la operación nunca supo qué pasó."),
    "money_change": ("{before} before, {after} after", "{before} antes, {after} después"),
}

_OUTCOMES: dict[str, str] = {
    # Run.outcome and WorkflowRun.status words -> Spanish (English shows them as they are)
    "completed": "completada",
    "failed": "fallida",
    "lost": "perdida",
    "stuck": "atascada",
    "dead-lettered": "en mensajes muertos",
    "rolled back": "revertida",
    "unknown to caller": "desconocida para quien llamó",
    "running": "en curso",
    "nondeterministic": "no determinista",
    "canceled": "cancelada",
    "duplicated": "duplicada",  # a day's transfer whose effect happened twice
}

_state: dict[str, str] = {"language": "en"}


def set_language(language: str) -> None:
    """Speak ``language`` ("en" or "es") in every widget and figure built from now on.

    Raises:
        ValueError: a language durasim does not speak; the message lists the ones it does.
    """
    if language not in LANGUAGES:
        raise ValueError(f"durasim speaks {', '.join(LANGUAGES)}; got {language!r}")
    _state["language"] = language


def get_language() -> str:
    """The language labels are currently given in."""
    return _state["language"]


def t(key: str, **values: Any) -> str:
    """The label ``key`` in the current language, with ``{placeholders}`` filled in.

    Raises:
        KeyError: an unknown label (a typo in durasim, never a user's mistake).
    """
    english, spanish = _LABELS[key]
    text = spanish if _state["language"] == "es" else english
    return text.format(**values) if values else text


def outcome(word: str) -> str:
    """A run's outcome (``"rolled back"``) in the current language.

    The simulator names outcomes in English (tests and code compare them); what a room
    reads is translated here. An outcome durasim does not know stays as it is.
    """
    if _state["language"] == "es":
        return _OUTCOMES.get(word, word)
    return word


def check_sentence(check: Any, run: Any = None) -> str:
    """What a check says, in the current language.

    English gives the check's own sentence (it names who lost what). Spanish gives the
    check's verdict in Spanish, with the money before and after read from ``run`` when a
    money check fails, so nothing in Spanish says more than the check established.
    """
    if _state["language"] != "es" or f"check_{check.name}_ok" not in _LABELS:
        return str(check.sentence)
    key = f"check_{check.name}_{'ok' if check.ok else 'fail'}"
    change = ""
    if run is not None and not check.ok and check.name == "money_conserved":
        change = t("money_change", before=run.scenario.total_money,
                   after=sum(run.balances.values()))
    return t(key, change=change)


def outcomes() -> list[str]:
    """Every outcome word with a translation (the tests check the simulator's are here)."""
    return sorted(_OUTCOMES)


def keys() -> list[str]:
    """Every label key (the tests check both languages have each one)."""
    return sorted(_LABELS)
