"""Every word the talk's figures say, in English and in Latin-American Spanish.

The Spanish deck is given to a Spanish-speaking room: every label a figure draws must be
Spanish there, including the simulator's own words (an outcome such as "rolled back",
"retry", "attempt", "history"). Code names (``deposit``, ``bank_b``) and Temporal's event
types (``ActivityTaskScheduled``) stay as they are: they are what students meet in code and
on the real platform.
"""

from __future__ import annotations

from durasim.i18n import get_language

_TEXT: dict[str, tuple[str, str]] = {
    # the sky (section 1)
    "geocentric": ("Earth at the centre: epicycles upon epicycles",
                   "La Tierra al centro: epiciclos sobre epiciclos"),
    "heliocentric": ("The Sun at the centre: one orbit each",
                     "El Sol al centro: una órbita cada uno"),
    "earth": ("Earth", "Tierra"),
    "sun": ("Sun", "Sol"),
    "mars": ("Mars", "Marte"),
    "venus": ("Venus", "Venus"),
    "jupiter": ("Jupiter", "Júpiter"),
    "same_sky": ("The same sky, two models: both predict where Mars is; only one is simple.",
                 "El mismo cielo, dos modelos: ambos predicen dónde está Marte; "
                 "solo uno es simple."),
    "year": ("year {n}", "año {n}"),
    # complexity (section 2)
    "monolith": ("monolith", "monolito"),
    "one_process": ("one process,\nno network inside", "un proceso,\nsin red adentro"),
    "services_n": ("{n} microservices", "{n} microservicios"),
    "interactions_n": ("{n} interactions over the network",
                       "{n} interacciones por la red"),
    "services_axis": ("services", "servicios"),
    "interactions_axis": ("interactions", "interacciones"),
    # monolith (section 3)
    "no_crash": ("no crash", "sin caída"),
    "crash_step5": ("crash at step 5", "caída en el paso 5"),
    "commit_all": ("COMMIT\nall six steps", "COMMIT\nlos seis pasos"),
    "rollback_all": ("ROLLBACK\nnothing happened", "ROLLBACK\nno pasó nada"),
    "one_database": ("one database: alice, bob", "una base de datos: alice, bob"),
    "all_or_nothing": ("All or nothing: nobody ever sees a half-done transfer.",
                       "Todo o nada: nadie ve nunca una transferencia a medias."),
    # transactionality (section 4)
    "acid_inside": ("ACID inside", "ACID adentro"),
    "withdraw_done": ("3 debit alice: done", "3 debitar a alice: hecho"),
    "deposit_crashed": ("5 credit bob: crashed", "5 acreditar a bob: caída"),
    "network": ("network", "red"),
    "no_tx": ("No transaction spans both databases: alice was debited, bob never credited.",
              "Ninguna transacción abarca las dos bases: a alice se le debitó, "
              "a bob nunca se le acreditó."),
    # event-driven (section 5)
    "producers": ("producers", "productores"),
    "channel": ("channel (broker)", "canal (broker)"),
    "consumers": ("consumers", "consumidores"),
    "event": ("event", "evento"),
    "ed_caption": ("Asynchronous and distributed: each service knows only its own event.",
                   "Asincrónica y distribuida: cada servicio conoce solo su evento."),
    # the costs (section 6)
    "one_function": ("durable execution: one function", "ejecución durable: una función"),
    "six_handlers": ("events: six handlers, six logs", "eventos: seis handlers, seis logs"),
    "who_knows": ("Who knows that the deposit comes after the debit?",
                  "¿Quién sabe que el depósito va después del débito?"),
    "nobody": ("nobody: the order lives in the events", "nadie: el orden vive en los eventos"),
    # the definition (section 7)
    "server": ("server: the history", "servidor: el historial"),
    "server_lane": ("server", "servidor"),
    "worker": ("worker: your code", "worker: tu código"),
    "services": ("services", "servicios"),
    "tasks": ("tasks", "tareas"),
    "commands": ("commands", "comandos"),
    "crash_replay": ("crash → restart → replay the history",
                     "caída → reinicio → re-ejecutar el historial"),
    # the six characteristics (section 8)
    "trait_state": ("1 · Fully persistent state", "1 · Estado totalmente persistente"),
    "trait_duration": ("2 · Unlimited duration", "2 · Duración ilimitada"),
    "trait_calls": ("3 · API calls of unlimited duration",
                    "3 · Llamadas a APIs de duración ilimitada"),
    "trait_retry": ("4 · Retry logic", "4 · Lógica de reintentos"),
    "trait_async": ("5 · Asynchronous communication", "5 · Comunicación asincrónica"),
    "trait_timers": ("6 · Durable timers", "6 · Temporizadores durables"),
    "process_n": ("process {n}", "proceso {n}"),
    "paid": ("paid {who}", "pagó a {who}"),
    "stops": ("switched off", "se apaga"),
    "replays_n": ("replays {n} events", "re-ejecuta {n} eventos"),
    "reads_n": ("reads {n} events from SQLite", "lee {n} eventos de SQLite"),
    "state_caption": ("The second process pays only {who}: the history in SQLite said the "
                      "rest was done.",
                      "El segundo proceso solo le paga a {who}: el historial en SQLite decía "
                      "que lo demás ya estaba hecho."),
    "charge": ("charge", "cobro"),
    "duration_caption": ("{charges} monthly charges over {days} days; the worker crashed on "
                         "day {crash}; nobody was charged twice.",
                         "{charges} cobros mensuales en {days} días; el worker se cayó el día "
                         "{crash}; a nadie se le cobró dos veces."),
    "attempt_n": ("attempt {n}", "intento {n}"),
    "attempt_failed": ("attempt {n} failed", "intento {n} falló"),
    "attempt_ok": ("attempt {n}: done", "intento {n}: hecho"),
    "timeout": ("start-to-close timeout", "timeout start-to-close"),
    "calls_caption": ("A {d}-day call is an activity; the worker crashed on day {crash}; "
                      "after the {limit}-day start-to-close timeout the server retried it.",
                      "Una llamada de {d} días es una actividad; el worker se cayó el día "
                      "{crash}; tras el timeout start-to-close de {limit} días el servidor la "
                      "reintentó."),
    "retry_wait": ("wait {s}", "espera {s}"),
    "retry_caption": ("The retry policy lives in the server: waits of {waits}; "
                      "your code only sees the result.",
                      "La política de reintentos vive en el servidor: esperas de {waits}; "
                      "tu código solo ve el resultado."),
    "waiting": ("waiting for approval", "esperando la aprobación"),
    "signal": ("signal: approved", "señal: aprobado"),
    "async_caption": ("The workflow waits {days} days for a person; the worker crash on day "
                      "{crash} changes nothing.",
                      "El workflow espera {days} días a una persona; la caída del worker el "
                      "día {crash} no cambia nada."),
    "timer_started": ("timer: {days} days", "temporizador: {days} días"),
    "timer_fired": ("timer fired", "temporizador disparado"),
    "timers_caption": ("The server keeps the timer: it crashed on day {crash} and the timer "
                       "still fired on day {fired}.",
                       "El servidor guarda el temporizador: se cayó el día {crash} y el "
                       "temporizador igual se disparó el día {fired}."),
    "done": ("done", "hecho"),
    "day_n": ("day {n}", "día {n}"),
    "seconds_n": ("{n} s", "{n} s"),
    # the crash story (section 9)
    "crash": ("crash", "caída"),
    "restart": ("restart", "reinicio"),
    "replay": ("replay", "re-ejecución"),
    "retry": ("retry", "reintento"),
    "history": ("history", "historial"),
    "committed": ("committed", "confirmado"),
    "recovery_caption": ("The worker forgets everything; the history remembers steps 1-4: "
                         "only step 5 runs again.",
                         "El worker lo olvida todo; el historial recuerda los pasos 1-4: "
                         "solo el 5 se repite."),
    "wait_start_to_close": ("{t}: start-to-close timeout", "{t}: timeout start-to-close"),
    "wait_sticky": ("{t}: sticky queue timeout", "{t}: timeout de la cola sticky"),
    "hist_crash": ("the worker crashed here", "aquí se cayó el worker"),
    "hist_replayed": ("replayed: events 1-{n}, no activity ran again",
                      "re-ejecutados: eventos 1-{n}, ninguna actividad se repitió"),
    "outcomes_caption": ("Same crash, same seed: the money of alice and bob afterwards.",
                         "La misma caída, la misma semilla: el dinero de alice y bob después."),
    "before": ("before", "antes"),
    "after": ("after", "después"),
    "total": ("total", "total"),
    "arch_monolith": ("monolith", "monolito"),
    "arch_event_driven": ("event-driven", "basada en eventos"),
    "arch_durable": ("durable execution", "ejecución durable"),
}

STEP_NAMES: dict[str, tuple[str, str]] = {
    "validate": ("validate", "validar"),
    "fraud_check": ("fraud check", "antifraude"),
    "withdraw": ("debit A", "debitar A"),
    "record_ledger": ("ledger", "libro mayor"),
    "deposit": ("credit B", "acreditar B"),
    "notify": ("notify", "notificar"),
}
"""The transfer's steps as the figures label them (the code keeps its own names)."""


def say(key: str, **values: object) -> str:
    """The figure text ``key`` in the current language, placeholders filled."""
    english, spanish = _TEXT[key]
    text = spanish if get_language() == "es" else english
    return text.format(**values) if values else text


def step_label(number: int, name: str) -> str:
    """``5 credit B`` / ``5 acreditar B``: a business step as a figure names it."""
    english, spanish = STEP_NAMES.get(name, (name, name))
    return f"{number} {spanish if get_language() == 'es' else english}"


def keys() -> list[str]:
    """Every text key (the tests check each has both languages)."""
    return sorted(_TEXT)
