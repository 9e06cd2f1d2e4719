"""The app of Prefect's temporary server process (``flows/ephemeral.py`` launches uvicorn with
``--factory flows.prefect_server:create_app``): Prefect's own app, built with Python's cyclic
garbage collector paused.

Building it imports Prefect's server (some 2,000 modules: its models, FastAPI, SQLAlchemy...),
whose classes and functions the collector traverses again and again while nothing they hold is
garbage yet: with the collector paused, the server's CPU from its launch to its app 2.8-3.1 ->
2.2-2.5 s (five runs each), on the path to a run's first file. The collector runs again once the
app is built, for as long as the server serves the run. Nothing of Prefect is imported until
:func:`create_app` is called.

The server is stopped when the run ends; a database request still under way then is cancelled,
and SQLAlchemy's pool logged the cancelled reset of its connection as an ERROR with a traceback
after runs that went well (seen on a busy machine). :class:`CancelledResetFilter` drops that
record, and only that one.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import Any

gc.disable()  # uvicorn imports this module right before it calls the factory


def create_app() -> Any:
    """``prefect.server.api.server.create_app()``, the factory Prefect's own temporary server
    runs, with the collector paused while it imports and builds."""
    gc.disable()
    try:
        from prefect.server.api.server import create_app as prefect_app

        app = prefect_app()
    finally:
        gc.enable()
    quiet_cancelled_resets()
    return app


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
