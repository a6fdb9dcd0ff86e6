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


def keys() -> list[str]:
    """Every label key (the tests check both languages have each one)."""
    return sorted(_LABELS)
