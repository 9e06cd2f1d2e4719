"""Prefect wiring (pipeline.py) and the command line (cli.py) of newsflow.

Importing this package sets the Prefect settings newsflow runs with, as environment variables,
before Prefect itself is imported (Prefect reads its settings once, at import). A variable the
user already set is left alone. See :data:`PREFECT_DEFAULTS` for what and why.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: Prefect settings for a run with no Prefect server started by hand: Prefect 3 then starts a
#: temporary ("ephemeral") API server in a subprocess, backed by SQLite, for the length of the run.
PREFECT_DEFAULTS: dict[str, str] = {
    # Start that temporary server when no PREFECT_API_URL is set (Prefect's default profile does
    # this too, but a PREFECT_HOME without a profiles.toml must not depend on it).
    "PREFECT_SERVER_EPHEMERAL_ENABLED": "true",
    # A cold start on a fresh PREFECT_HOME runs every database migration first (~15 s on 2 cores);
    # the default of 20 s is too tight for a busy CI machine.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    # The server's telemetry heartbeat writes a session row into SQLite at start-up while the
    # migrations/block registration hold the database: that is the "database is locked"
    # traceback every cold run printed. It also posts to an outside host. Off.
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    # The client-side (SDK) usage telemetry: the documented opt-out.
    "DO_NOT_TRACK": "1",
    # A local Dask cluster (--workers N) logs its own start and teardown at INFO, including a
    # "Batched Comm Closed" traceback when a nanny closes before a last message is sent: normal
    # teardown, not a failure of the run. Warnings and errors still show.
    "DASK_LOGGING__DISTRIBUTED": "warning",
    # Not Prefect's: polars' allocator (jemalloc) with one arena instead of one per thread
    # (8 on 2 cores), so memory a batch frees in one thread is reused by the next allocation
    # of another instead of being held per arena. Read when polars loads, so it applies to the
    # task runner's worker processes (and to this one when polars is not imported yet): about
    # 30 MB less per worker at the peak of a batch, no measurable CPU cost.
    "_RJEM_MALLOC_CONF": "narenas:1",
}


def _default_prefect_home() -> str:
    return str(Path.cwd() / ".prefect")


def configure_prefect_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    """Set newsflow's Prefect defaults in ``environ`` (default ``os.environ``) where unset.

    ``PREFECT_HOME`` (Prefect's SQLite database, profiles, logs) defaults to ``./.prefect`` so a
    run never depends on, or writes into, the user's ``~/.prefect`` — unless the user points
    Prefect somewhere themselves (``PREFECT_HOME``, ``PREFECT_API_URL`` or ``PREFECT_PROFILE``).
    Returns the variables it set.
    """
    env = os.environ if environ is None else environ
    wanted = dict(PREFECT_DEFAULTS)
    if not any(k in env for k in ("PREFECT_HOME", "PREFECT_API_URL", "PREFECT_PROFILE")):
        wanted["PREFECT_HOME"] = _default_prefect_home()
    applied = {k: v for k, v in wanted.items() if k not in env}
    env.update(applied)
    return applied


if "prefect" in sys.modules:  # pragma: no cover - only when someone imported prefect first
    import warnings

    warnings.warn(
        "prefect was imported before flows: newsflow's Prefect settings may not apply",
        RuntimeWarning,
        stacklevel=2,
    )
configure_prefect_env()
