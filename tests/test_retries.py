"""The batch task retries transient I/O failures (OSError) only."""

from __future__ import annotations

import pytest

from flows import pipeline  # before prefect: it sets newsflow's Prefect settings
from prefect.states import Completed, Failed  # noqa: E402


@pytest.mark.parametrize(
    ("exc", "retry"),
    [
        (OSError("disk hiccup"), True),
        (FileNotFoundError("gone"), True),
        (TimeoutError("share timed out"), True),
        (ValueError("bad data"), False),
        (RuntimeError("bug"), False),
        (KeyError("x"), False),
    ],
)
def test_retry_condition_retries_os_errors_only(exc: BaseException, retry: bool) -> None:
    assert pipeline.retry_on_os_error(None, None, Failed(data=exc)) is retry


def test_retry_condition_does_not_retry_a_completed_state() -> None:
    assert pipeline.retry_on_os_error(None, None, Completed(data=1)) is False


def test_batch_task_is_configured_to_retry() -> None:
    t = pipeline.process_batches_task
    assert t.retries == 2
    assert t.retry_condition_fn is pipeline.retry_on_os_error
    assert 0 < max(t.retry_delay_seconds if isinstance(t.retry_delay_seconds, list) else [t.retry_delay_seconds]) <= 10
