"""The app of Prefect's temporary server process (``flows/ephemeral.py`` launches uvicorn with
``--factory flows.prefect_server:create_app``): Prefect's own app, built with Python's cyclic
garbage collector paused.

Building it imports Prefect's server (some 2,000 modules: its models, FastAPI, SQLAlchemy...),
whose classes and functions the collector traverses again and again while nothing they hold is
garbage yet: with the collector paused, the server's CPU from its launch to its app 2.8-3.1 ->
2.2-2.5 s (five runs each), on the path to a run's first file. The collector runs again once the
app is built, for as long as the server serves the run. Nothing of Prefect is imported until
:func:`create_app` is called.
"""

from __future__ import annotations

import gc
from typing import Any

gc.disable()  # uvicorn imports this module right before it calls the factory


def create_app() -> Any:
    """``prefect.server.api.server.create_app()``, the factory Prefect's own temporary server
    runs, with the collector paused while it imports and builds."""
    gc.disable()
    try:
        from prefect.server.api.server import create_app as prefect_app

        return prefect_app()
    finally:
        gc.enable()
