"""The app of Prefect's temporary server process (``flows/ephemeral.py`` launches uvicorn with
``--factory flows.prefect_server:create_app``): Prefect's own app, built with Python's cyclic
garbage collector paused.

Building it imports Prefect's server (some 2,000 modules: its models, FastAPI, SQLAlchemy...),
whose classes and functions the collector traverses again and again while nothing they hold is
garbage yet: with the collector paused, the server's CPU from its launch to its app 2.8-3.1 ->
2.2-2.5 s (five runs each), on the path to a run's first file. The collector runs again once the
app is built, for as long as the server serves the run. Nothing of Prefect is imported until
:func:`create_app` is called.

Prefect keys a cache of the apps it built (empty in this process) by a hash of every setting,
computed twice while the app is built, some 0.1 s of CPU each time: a cheaper key stands in for
it while the app is built (:func:`_hash_key_of_one_app`). Building the app, once Prefect is
imported: 0.30-0.35 -> 0.12-0.14 s of CPU.

The routers of Prefect's API that a run calls are put first in the app's list of routes
(:func:`run_routers_first`): FastAPI (0.150 here) builds an included router's routes (their
dependencies, their pydantic validators) the first time a request is matched against that router,
all of the router's routes at once, and a request is matched against the routers in order. The
run's first request, ``/api/admin/version``, came after 35 of Prefect's 37 routers, so it built
184 routes the run never calls: the server's CPU from its first answer to the flow's first step
0.58-0.68 -> 0.20-0.24 s (four runs each, alternately). Every path still reaches the route it
reached before: the routers' paths do not overlap.

The server is stopped when the run ends; a database request still under way then is cancelled,
and SQLAlchemy's pool logged the cancelled reset of its connection as an ERROR with a traceback
after runs that went well (seen on a busy machine). :class:`CancelledResetFilter` drops that
record, and only that one.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def create_app() -> Any:
    """``prefect.server.api.server.create_app()``, the factory Prefect's own temporary server
    runs, with the collector paused while it imports and builds, and the app caches' key cheap."""
    gc.disable()
    try:
        from prefect.server.api.server import create_app as prefect_app
        from prefect.settings.models.root import Settings

        with _hash_key_of_one_app(Settings):
            app = prefect_app()
    finally:
        gc.enable()
    api = getattr(app, "api_app", None)  # Prefect's API, mounted at /api
    if api is not None:
        api.router.routes[:] = run_routers_first(api.router.routes)
    quiet_cancelled_resets()
    return app


@contextmanager
def _hash_key_of_one_app(settings_class: Any) -> Iterator[None]:
    """``settings_class.hash_key`` (Prefect's ``Settings``) as :func:`one_app_hash_key` while
    Prefect builds the app, restored after.

    Prefect's ``create_app`` and ``create_api_app`` key a cache of the apps they built by
    ``Settings.hash_key()``: every setting, secrets revealed, turned into environment variables
    and hashed, some 0.1 s of CPU each time, twice, on the path to the server's first answer.
    In this process the caches are empty and one app is built; the key only has to be the same
    for the same settings, and :func:`one_app_hash_key` is (about 3 ms)."""
    original = settings_class.__dict__.get("hash_key")
    settings_class.hash_key = one_app_hash_key
    try:
        yield
    finally:
        if original is None:
            del settings_class.hash_key
        else:
            settings_class.hash_key = original


def one_app_hash_key(settings: Any) -> str:
    """A key of ``settings`` (Prefect's ``Settings``) for the app caches of the one process that
    builds its app from them: a SHA-256 of their JSON (secrets masked, as Pydantic shows them)."""
    return hashlib.sha256(settings.model_dump_json().encode("utf-8")).hexdigest()


#: The prefixes of the routers of Prefect's API that a flow run of newsflow calls (its engine,
#: its logs, its events, the artifacts of its summary), in the order they are first called.
RUN_ROUTERS = ("/admin", "/csrf-token", "/flows", "/flow_runs", "/events", "/logs", "/artifacts")


def _router_prefix(route: Any) -> str | None:
    """The prefix of the router a route of the app's list stands for, as FastAPI includes a
    router (one entry holding the router); None for any other route."""
    return getattr(getattr(route, "original_router", None), "prefix", None)


def run_routers_first(routes: list[Any]) -> list[Any]:
    """``routes`` with the included routers of :data:`RUN_ROUTERS` moved to where the first
    included router stands, in that order; every other route keeps its place relative to the
    others. Unchanged when no route is an included router (a FastAPI that copies the routers'
    routes into the app as it includes them, and builds them then)."""
    at = next((i for i, r in enumerate(routes) if _router_prefix(r) is not None), None)
    if at is None:
        return list(routes)
    moved = sorted((r for r in routes if _router_prefix(r) in RUN_ROUTERS),
                   key=lambda r: RUN_ROUTERS.index(_router_prefix(r)))
    rest = [r for r in routes[at:] if all(r is not m for m in moved)]
    return [*routes[:at], *moved, *rest]


#: SQLAlchemy's pool logger (its records name the pool class below it)
POOL_LOGGER = "sqlalchemy.pool"


class CancelledResetFilter(logging.Filter):
    """Drops the pool's "Exception during reset or similar" when the exception is a
    cancellation (the server shutting down under a request), and nothing else."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not (isinstance(exc, asyncio.CancelledError)
                    and record.getMessage().startswith("Exception during reset"))


def quiet_cancelled_resets() -> None:
    """Put :class:`CancelledResetFilter` on the handlers the pool's records reach (a logger's
    own filters do not see the records of the loggers below it), once."""
    logger = logging.getLogger(POOL_LOGGER)
    handlers = []
    while logger is not None:
        handlers += logger.handlers
        logger = logger.parent if logger.propagate else None
    for handler in handlers:
        if not any(isinstance(f, CancelledResetFilter) for f in handler.filters):
            handler.addFilter(CancelledResetFilter())
