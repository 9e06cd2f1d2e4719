"""Prefect's temporary server, started by ``newsflow run`` before the pipeline is imported."""

from __future__ import annotations

import os
import urllib.request
from pathlib import Path

from flows import ephemeral


def test_left_to_prefect_when_the_user_configured_prefect(tmp_path: Path):
    home = tmp_path / "home"
    home.mkdir()
    base = {"PREFECT_HOME": str(home)}
    assert ephemeral.prefect_would_start_one(base)
    assert not ephemeral.prefect_would_start_one({**base, "PREFECT_API_URL": "http://127.0.0.1:4200/api"})
    assert not ephemeral.prefect_would_start_one({**base, "PREFECT_PROFILE": "work"})
    assert not ephemeral.prefect_would_start_one({**base, "PREFECT_SERVER_EPHEMERAL_ENABLED": "false"})
    (home / "profiles.toml").write_text('[profiles.local]\nPREFECT_API_URL = "http://10.0.0.5:4200/api"\n')
    assert not ephemeral.prefect_would_start_one(base)
    env = dict(base)
    assert ephemeral.start(env) is None and "PREFECT_API_URL" not in env


def test_the_server_answers_and_is_gone_after_stop(prefect_home: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(prefect_home), PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1")
    server = ephemeral.start(env)
    assert server is not None
    try:
        assert env["PREFECT_API_URL"] == server.api_url
        assert server.ready(120)
        with urllib.request.urlopen(f"{server.api_url}/health", timeout=5) as resp:
            assert resp.status == 200
    finally:
        server.stop()
    assert server.process.poll() is not None
    assert "PREFECT_API_URL" not in env


def test_the_server_registers_no_block_types_unless_the_user_says_so():
    env = ephemeral.server_environ({"PATH": "/bin"})
    assert env["PREFECT_SERVER_REGISTER_BLOCKS_ON_START"] == "false"
    assert env["PREFECT_SERVER_MEMOIZE_BLOCK_AUTO_REGISTRATION"] == "false"
    assert env["PREFECT__SERVER_EPHEMERAL"] == "1" and env["PATH"] == "/bin"
    mine = ephemeral.server_environ({"PREFECT_API_BLOCKS_REGISTER_ON_START": "true"})
    assert "PREFECT_SERVER_REGISTER_BLOCKS_ON_START" not in mine
    assert mine["PREFECT_API_BLOCKS_REGISTER_ON_START"] == "true"


def test_the_server_runs_no_automation_triggers_unless_the_user_says_so():
    env = ephemeral.server_environ({"PATH": "/bin"})
    assert env["PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED"] == "false"
    mine = ephemeral.server_environ({"PREFECT_API_SERVICES_TRIGGERS_ENABLED": "true"})
    assert "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED" not in mine
    assert mine["PREFECT_API_SERVICES_TRIGGERS_ENABLED"] == "true"
    # the block settings are a group of their own: a user's trigger setting leaves them as they were
    assert mine["PREFECT_SERVER_REGISTER_BLOCKS_ON_START"] == "false"


def test_a_cancelled_pool_reset_at_shutdown_is_not_logged_but_other_errors_are():
    """Prefect's temporary server, stopped under a database request, logged SQLAlchemy's
    cancelled connection reset as an ERROR with a traceback after a run that went well."""
    import asyncio
    import logging

    from flows.prefect_server import CancelledResetFilter, quiet_cancelled_resets

    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    handler = Keep()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        quiet_cancelled_resets()
        quiet_cancelled_resets()  # once is enough: no second filter
        assert sum(isinstance(f, CancelledResetFilter) for f in handler.filters) == 1
        pool = logging.getLogger("sqlalchemy.pool.impl.AsyncAdaptedQueuePool")
        for exc in (asyncio.CancelledError(), OSError("disk I/O error")):
            try:
                raise exc
            except BaseException:  # noqa: BLE001
                pool.error("Exception during reset or similar", exc_info=True)
        try:
            raise asyncio.CancelledError()
        except BaseException:  # noqa: BLE001
            pool.error("Exception closing connection", exc_info=True)
    finally:
        root.removeHandler(handler)
    assert seen == ["Exception during reset or similar", "Exception closing connection"]


class _AnsweringServer:
    """Stands for a temporary server that has answered its health check."""

    api_url = "http://127.0.0.1:9/api"

    def ready(self, timeout: float) -> bool:
        return True


def _engine_heartbeat() -> int | None:
    """The heartbeat interval Prefect's flow run engine would use here and now."""
    from prefect import flow
    from prefect.flow_engine import FlowRunEngine

    @flow
    def nothing() -> None:
        pass

    return FlowRunEngine(flow=nothing).heartbeat_seconds


def test_flow_runs_on_the_temporary_server_send_no_heartbeats_unless_the_user_asks(monkeypatch):
    from flows import cli

    for name in cli.HEARTBEAT_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    before = _engine_heartbeat()
    assert before is not None  # Prefect's default: a heartbeat thread in every flow run
    with cli._api(_AnsweringServer()):
        assert _engine_heartbeat() is None
    assert _engine_heartbeat() == before
    # a user who set the interval (under either name) gets it
    for name in cli.HEARTBEAT_SETTINGS:
        monkeypatch.setenv(name, "60")
        with cli._api(_AnsweringServer()):
            assert _engine_heartbeat() == 60
        monkeypatch.delenv(name)
    # no server of newsflow's: nothing changed
    with cli._api(None):
        assert _engine_heartbeat() == before
