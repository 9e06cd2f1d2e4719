"""The scheduled pipeline: ``newsflow serve`` serves it as a Prefect deployment on a cron schedule.

Thin wiring only. The scheduled flow takes the warehouse lock (so a scheduled run and a manual
``newsflow run`` never write at once: the later one waits up to ``LOCK_WAIT_S``) and runs
:func:`flows.pipeline.newsflow_run` as a subflow, so the run, its batches and its summary artifact
show in the Prefect UI.
"""

from __future__ import annotations

from pathlib import Path

import flows  # noqa: F401  - sets newsflow's Prefect settings before prefect is imported
from prefect import flow
from prefect.deployments.runner import RunnerDeployment

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
