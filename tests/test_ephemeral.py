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


def _server_env(prefect_home: Path) -> dict[str, str]:
    """This process's environment without its Prefect settings, the session's Prefect home, no
    analytics: what the tests start a temporary server with."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(prefect_home), PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1")
    return env


def test_the_server_answers_and_is_gone_after_stop(prefect_home: Path):
    env = _server_env(prefect_home)
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


def test_the_server_starts_from_a_directory_with_its_own_flows_and_uvicorn(prefect_home: Path, tmp_path: Path,
                                                                         monkeypatch):
    """``python -m`` puts the working directory first on the path: a ``flows`` package (a common
    name in Prefect projects) or a ``uvicorn`` there was imported instead of newsflow's and
    uvicorn's, and the server never answered."""
    work = tmp_path / "project"
    for package in ("flows", "uvicorn"):
        (work / package).mkdir(parents=True)
        (work / package / "__init__.py").write_text(f'raise SystemExit("the project\'s {package}")\n')
    (work / "flows" / "prefect_server.py").write_text('raise SystemExit("the project\'s server")\n')
    monkeypatch.chdir(work)
    env = _server_env(prefect_home)
    server = ephemeral.start(env)
    assert server is not None
    try:
        assert server.ready(120)
    finally:
        server.stop()


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


def test_the_server_records_task_runs_in_batches_unless_the_user_says_otherwise():
    env = ephemeral.server_environ({"PATH": "/bin"})
    assert env["PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE"] == "20"
    mine = ephemeral.server_environ({"PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE": "1"})
    assert mine["PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE"] == "1"
    assert mine["PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED"] == "false"  # the other groups as they were


def test_every_task_run_of_a_run_is_recorded_by_the_time_the_server_stops(tmp_path: Path, cli_env):
    """With task runs recorded 20 events at a time, a run of a few tasks (fewer events than
    that) is recorded only as the server stops: Prefect's database holds the run's flow run,
    each of its task runs and their three states once the command has ended."""
    import json
    import sqlite3

    from test_cli import newsflow, seed_copies

    home = tmp_path / "prefect-home"  # a database of its own: this run's rows only
    raw = tmp_path / "raw"
    seed_copies(raw, 2)
    out = newsflow("run", "--raw", str(raw), "--warehouse", str(tmp_path / "wh"), "--json", "--batch-size", "1",
                   cwd=tmp_path, env={**cli_env, "PREFECT_HOME": str(home)})
    assert out.returncode == 0, out.stderr[-3000:]
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["files"] == 2 and summary["batches"] == 2
    db = sqlite3.connect(home / "prefect.db")
    try:
        flow_runs = db.execute("select id, state_type from flow_run").fetchall()
        assert len(flow_runs) == 1 and flow_runs[0][1] == "COMPLETED"
        task_runs = db.execute("select name, state_type from task_run where flow_run_id = ?",
                               (flow_runs[0][0],)).fetchall()
        states = db.execute("select count(*) from task_run_state").fetchone()[0]
    finally:
        db.close()
    names = sorted(name for name, _ in task_runs)
    assert any(n.startswith("batches-") for n in names) and any(n.startswith("keywords-") for n in names)
    assert all(state == "COMPLETED" for _, state in task_runs)
    assert states == 3 * len(task_runs)  # pending, running, completed: every event recorded


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


class _SilentServer:
    """Stands for a temporary server that never answers; notes the API its caller had set up
    when it was asked to wait."""

    api_url = "http://127.0.0.1:9/api"

    def __init__(self) -> None:
        self.url_while_waiting: str | None = None

    def ready(self, timeout: float) -> bool:
        from prefect.settings import get_current_settings

        self.url_while_waiting = str(get_current_settings().api.url)
        return False


def test_the_flows_settings_are_built_before_the_wait_and_a_silent_server_fails_the_run(monkeypatch):
    from prefect.settings import get_current_settings

    from flows import cli

    monkeypatch.setenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "3")
    before = get_current_settings().api.url
    server = _SilentServer()
    try:
        with cli._api(server):
            raise AssertionError("the flow ran without a server")
    except RuntimeError as exc:
        assert "did not answer within 3 s" in str(exc)
    assert server.url_while_waiting == server.api_url  # the settings were in place during the wait
    assert get_current_settings().api.url == before  # and are gone after


class _Router:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix


class _Included:
    """An app's entry for an included router, as FastAPI 0.150 lists it."""

    def __init__(self, prefix: str) -> None:
        self.original_router = _Router(prefix)

    def __repr__(self) -> str:
        return self.original_router.prefix


def test_the_routers_a_run_calls_come_first_and_the_others_keep_their_order():
    from flows.prefect_server import RUN_ROUTERS, run_routers_first

    plain = ["/openapi.json", "/health"]
    others = [_Included(p) for p in ("/deployments", "/work_pools", "/variables")]
    run = {p: _Included(p) for p in RUN_ROUTERS}
    routes = [*plain, others[0], run["/flows"], others[1], run["/admin"], run["/logs"],
              others[2], "/static", run["/csrf-token"], run["/artifacts"], run["/events"], run["/flow_runs"]]
    out = run_routers_first(routes)
    assert out[:2] == plain
    assert out[2:2 + len(RUN_ROUTERS)] == [run[p] for p in RUN_ROUTERS]
    assert out[2 + len(RUN_ROUTERS):] == [*others[:2], others[2], "/static"]
    assert sorted(map(id, out)) == sorted(map(id, routes))  # nothing lost, nothing twice
    # a FastAPI that lists the routers' routes themselves: nothing to move
    flat = ["/health", "/flows/", "/admin/version"]
    assert run_routers_first(flat) == flat


_SAME_ROUTES = r"""
import gc, json, re, sys
from flows.prefect_server import RUN_ROUTERS, _router_prefix, create_app, one_app_hash_key
from prefect.server.api.server import create_app as prefect_app
from prefect.settings import PREFECT_LOGGING_LEVEL, get_current_settings
from prefect.settings.models.root import Settings

gc_on_import = gc.isenabled()
real_hash_key, hash_key_calls = Settings.hash_key, []
def counting_hash_key(self):
    hash_key_calls.append(1)
    return real_hash_key(self)
Settings.hash_key = counting_hash_key
ours = create_app().api_app.router.routes
gc_on_app = gc.isenabled()
hash_key = {"calls": len(hash_key_calls), "restored": Settings.__dict__["hash_key"] is counting_hash_key}
settings = get_current_settings()
hash_key["same"] = one_app_hash_key(settings) == one_app_hash_key(settings.model_copy(deep=True))
hash_key["differs"] = one_app_hash_key(settings) != one_app_hash_key(
    settings.copy_with_update(updates={PREFECT_LOGGING_LEVEL: "DEBUG"}))
theirs = prefect_app(ignore_cache=True).api_app.router.routes  # Prefect's order

def key(route):  # the same router or route in both apps
    p = _router_prefix(route)
    return ("router", p) if p is not None else ("route", type(route).__name__, getattr(route, "path", None))

def chosen(routes, scope):  # the route the app's router hands the request to (FastAPI's own loop)
    partial = None
    for route in routes:
        match, _ = route.matches(dict(scope))
        if match.name == "FULL":
            return key(route)
        if match.name == "PARTIAL" and partial is None:
            partial = key(route)
    return partial

paths = []
for route in theirs:
    inner = getattr(getattr(route, "original_router", None), "routes", None) or [route]
    for r in inner:
        if getattr(r, "path", None) is not None:
            paths.append((r.path, sorted(getattr(r, "methods", None) or ["GET"])))
checked = differ = 0
for path, methods in paths:
    concrete = re.sub(r"\{[^}]+\}", "0b7a6a3e-1c1d-4c55-9a0b-3a1f0c2d4e5f", path)
    for method in [*methods, "PATCH"]:
        scope = {"type": "http", "path": concrete, "method": method, "root_path": "",
                 "query_string": b"", "headers": []}
        checked += 1
        differ += chosen(ours, scope) != chosen(theirs, scope)
first = [_router_prefix(r) for r in ours if _router_prefix(r) is not None][:len(RUN_ROUTERS)]
print(json.dumps({"checked": checked, "differ": differ, "first": first, "routes": len(paths),
                  "gc": [gc_on_import, gc_on_app], "hash_key": hash_key,
                  "same_set": sorted(map(str, map(key, ours))) == sorted(map(str, map(key, theirs)))}))
"""


def test_prefects_api_with_the_run_routers_first_sends_every_path_where_it_went_before(prefect_home: Path):
    """On Prefect's real API (built in a process of its own, as the server builds it): the
    run's routers come first, and each of its routes' paths, with each of their methods and one
    they lack, is handed to the same router or route as in Prefect's order. The garbage
    collector, paused while the app is built, is on after the module's import and after the
    app (a test process importing the module keeps its collector). Prefect's own settings hash
    is not computed for its app caches while the app is built, and is back in place after."""
    import json
    import subprocess
    import sys

    env = ephemeral._with_newsflow_on_path(ephemeral.server_environ(_server_env(prefect_home)))
    out = subprocess.run([sys.executable, "-c", _SAME_ROUTES], env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    from flows.prefect_server import RUN_ROUTERS

    assert result["first"] == list(RUN_ROUTERS)
    assert result["gc"] == [True, True]
    # Prefect's settings hash (0.1 s each) not computed for the app caches, and put back after
    assert result["hash_key"] == {"calls": 0, "restored": True, "same": True, "differs": True}
    assert result["same_set"] and result["routes"] > 150
    assert result["checked"] > 300 and result["differ"] == 0, result
