"""The scheduled pipeline: ``newsflow serve`` serves it as a Prefect deployment on a cron schedule.

Thin wiring only. The scheduled flow takes the warehouse lock (so a scheduled run and a manual
``newsflow run`` never write at once: the later one waits up to ``LOCK_WAIT_S``) and runs
:func:`flows.pipeline.newsflow_run` as a subflow, so the run, its batches and its summary artifact
show in the Prefect UI.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import flows  # noqa: F401  - sets newsflow's Prefect settings before prefect is imported
from prefect import flow
from prefect.deployments.runner import RunnerDeployment

from flows.ephemeral import free_port, stop_process, wait_healthy
from flows.pipeline import newsflow_run
from tasks import store

DEFAULT_CRON = "0 6 * * *"
DEPLOYMENT_NAME = "newsflow-daily"
LOCK_WAIT_S = 3600.0


@flow(name="newsflow-scheduled", persist_result=False, validate_parameters=False)
def newsflow_scheduled(raw: str, warehouse: str, full: bool = False) -> dict:
    """One scheduled run: hold the warehouse lock, bring the warehouse up to date."""
    with store.warehouse_lock(Path(warehouse), timeout=LOCK_WAIT_S):
        return newsflow_run(Path(raw), Path(warehouse), full=full).as_dict()


def build_deployment(raw: Path, warehouse: Path, cron: str = DEFAULT_CRON,
                     name: str = DEPLOYMENT_NAME) -> RunnerDeployment:
    """The deployment ``newsflow serve`` serves: the scheduled flow with absolute paths and a cron."""
    return newsflow_scheduled.to_deployment(
        name=name,
        cron=cron,
        parameters={"raw": str(Path(raw).resolve()), "warehouse": str(Path(warehouse).resolve())},
        description="Bring the newsflow warehouse up to date with the raw pages.",
        tags=["newsflow"],
    )


@contextmanager
def local_prefect_server(start_timeout: float = 180.0) -> Iterator[str]:
    """A Prefect server (API, UI and its scheduler) on a free local port for the block.

    Prefect's temporary in-process server runs none of the server's services, so no scheduled
    run would ever be created; this one does. Yields its API URL; stops it on the way out.
    """
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    server = subprocess.Popen(
        # -P: the working directory not first on the path (a prefect/ of the user's there)
        [sys.executable, "-P", "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env={k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        if not wait_healthy(api_url, server, start_timeout, interval=0.5):
            raise RuntimeError(f"the local Prefect server did not start on port {port}")
        yield api_url
    finally:
        stop_process(server, timeout=30)
