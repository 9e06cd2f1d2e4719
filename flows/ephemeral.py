"""Prefect's temporary API server, started at the very beginning of ``newsflow run``.

With no ``PREFECT_API_URL``, Prefect starts a temporary ("ephemeral") API server for a flow run
only when the flow starts: after the command has imported Prefect, polars, the segmenter and
the rest (2 to 4 s), and it then waits for that server to boot (uvicorn, the app, its SQLite
database: another 3 to 5 s). :func:`start` launches the very same server process -- the command
line Prefect itself runs, ``uvicorn --factory prefect.server.api.server:create_app`` with the UI
off (the factory called through :mod:`flows.prefect_server`, which pauses the garbage collector
while it imports) -- before anything heavy is imported, so the two overlap, and names it in
``PREFECT_API_URL``; :meth:`TemporaryServer.ready` waits for it just before the flow. Nothing of
Prefect is imported here.

Only a run for which Prefect would start such a server does this; when the user names a server
or a profile, Prefect is left to do what they configured. A server that does not answer in time
fails the run, as Prefect's own would.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

#: The settings the server process runs with beyond the caller's environment: as Prefect sets
#: them for its own temporary server (no UI; an ephemeral, final server), and
#: :data:`SERVER_DEFAULTS`.
SERVER_ENV = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
#: What the temporary server does otherwise than Prefect's defaults, because a run does not use
#: it or gains from it, each group of settings with the other names Prefect reads them under (a
#: user who sets any name of a group keeps their values for that group):
#:
#: * no registration of block types: a run uses no block; registering them (or checking a memo
#:   of them) imports every installed Prefect collection, prefect_dask and Dask with it, and
#:   hashes the block registry: about 0.27 s of CPU;
#: * no automation triggers service: it evaluates automations against the run's events, and a
#:   temporary server that lives as long as one run has none (no UI, no other client); starting
#:   it loads the automations' machinery and its consumer, 0.28-0.30 s of the server's CPU before
#:   it answers (0.38-0.41 s of its start-up step, against 0.11-0.13 s without).
#:
#: Both were on the path to a run's first file: the server takes 3.0-3.4 s of CPU from its
#: launch to its first answer, which is most of the start-up. While it serves the run:
#:
#: * task runs recorded 20 events at a time (or every 5 s, and at the server's stop) instead of
#:   one database transaction for each of their state events: the server's CPU while it serves a
#:   run over 50 MB (45 task runs) 2.80 -> 1.52 s, over 10 MB 0.68-0.70 -> 0.41 s (two runs each),
#:   CPU taken from the workers on the same cores. Every task run and state is still recorded:
#:   the recorder writes what it holds as the server stops.
SERVER_DEFAULT_GROUPS: tuple[tuple[dict[str, str], tuple[str, ...]], ...] = (
    ({"PREFECT_SERVER_REGISTER_BLOCKS_ON_START": "false",
      "PREFECT_SERVER_MEMOIZE_BLOCK_AUTO_REGISTRATION": "false"},
     ("PREFECT_API_BLOCKS_REGISTER_ON_START", "PREFECT_MEMOIZE_BLOCK_AUTO_REGISTRATION")),
    ({"PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false"},
     ("PREFECT_API_SERVICES_TRIGGERS_ENABLED",)),
    ({"PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE": "20"}, ()),
)
SERVER_DEFAULTS = {k: v for group, _ in SERVER_DEFAULT_GROUPS for k, v in group.items()}


def server_environ(env: dict[str, str]) -> dict[str, str]:
    """The environment of the server process: ``env`` with each group of
    :data:`SERVER_DEFAULT_GROUPS` where the user set none of its settings under any of their
    names, and :data:`SERVER_ENV`."""
    defaults: dict[str, str] = {}
    for group, aliases in SERVER_DEFAULT_GROUPS:
        if not any(k in env for k in (*group, *aliases)):
            defaults.update(group)
    return {**defaults, **env, **SERVER_ENV}


def free_port() -> int:
    """A local TCP port no one listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(api_url: str, process: subprocess.Popen[bytes], timeout: float, interval: float) -> bool:
    """Wait until the Prefect API at ``api_url`` answers its health check: True; False once
    ``process`` (the server's) has ended or ``timeout`` seconds have passed."""
    import urllib.request  # not before the server is launched: 23 ms of the command's start

    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{api_url}/health", timeout=2) as resp:
                if resp.status == 200:
                    return True
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(interval)


def stop_process(process: subprocess.Popen[bytes], timeout: float) -> None:
    """Terminate ``process``; kill it if it has not ended after ``timeout`` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class TemporaryServer:
    """A Prefect API server process on a free local port; :meth:`stop` ends it."""

    def __init__(self, process: subprocess.Popen[bytes], port: int,
                 environ: dict[str, str] | None = None) -> None:
        self.process = process
        self.port = port
        self.api_url = f"http://127.0.0.1:{port}/api"
        self._environ = environ

    def ready(self, timeout: float) -> bool:
        """Wait until the server answers its health check; False if it died or ``timeout``
        seconds passed (the server is then stopped)."""
        if wait_healthy(self.api_url, self.process, timeout, interval=0.05):
            return True
        self.stop()
        return False

    def stop(self) -> None:
        if self._environ is not None and self._environ.get("PREFECT_API_URL") == self.api_url:
            del self._environ["PREFECT_API_URL"]
        stop_process(self.process, timeout=10)


#: The app factory the server runs: Prefect's own (``prefect.server.api.server:create_app``),
#: built with Python's garbage collector paused (:mod:`flows.prefect_server`).
SERVER_FACTORY = "flows.prefect_server:create_app"


def _with_newsflow_on_path(env: dict[str, str]) -> dict[str, str]:
    """``env`` with the directory this ``flows`` package is in first on ``PYTHONPATH``, so that
    the server process imports :data:`SERVER_FACTORY` from this very code."""
    here = str(Path(__file__).resolve().parent.parent)
    rest = env.get("PYTHONPATH")
    return {**env, "PYTHONPATH": here if not rest else os.pathsep.join([here, rest])}


def prefect_would_start_one(environ: dict[str, str] | None = None) -> bool:
    """Would Prefect start a temporary server for this run, with nothing else configured: no
    ``PREFECT_API_URL``, no ``PREFECT_PROFILE``, temporary servers not turned off, and no profile
    in the Prefect home naming a server?"""
    env = os.environ if environ is None else environ
    if "PREFECT_API_URL" in env or "PREFECT_PROFILE" in env:
        return False
    if env.get("PREFECT_SERVER_EPHEMERAL_ENABLED", "true").lower() not in ("true", "1", "yes"):
        return False
    home = Path(env.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
    profiles = home / "profiles.toml"
    return not (profiles.is_file() and "PREFECT_API_URL" in profiles.read_text("utf-8", "replace"))


def start(environ: dict[str, str] | None = None, defaults: dict[str, str] | None = None) -> TemporaryServer | None:
    """Launch Prefect's temporary API server now, without waiting for it, and name it in
    ``PREFECT_API_URL`` of ``environ`` (default ``os.environ``; Prefect, imported later, reads it
    in every thread and worker process) until :meth:`TemporaryServer.stop`. None when this run
    should leave the server to Prefect (see :func:`prefect_would_start_one`) or Prefect's server
    cannot be found. ``defaults``: variables of the server's environment where ``environ`` has
    none (not set in ``environ``)."""
    target = os.environ if environ is None else environ
    env = {**(defaults or {}), **target}
    if not prefect_would_start_one(env):
        return None
    spec = importlib.util.find_spec("prefect")
    if spec is None or not spec.submodule_search_locations:
        return None
    app_dir = Path(next(iter(spec.submodule_search_locations))).parent
    port = free_port()
    process = subprocess.Popen(
        # -P: not the working directory first on the path (what -m does), where a flows/ or
        # uvicorn/ of the user's would be imported instead of newsflow's and uvicorn's
        [sys.executable, "-P", "-m", "uvicorn", "--app-dir", str(app_dir), "--factory", SERVER_FACTORY,
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "error", "--lifespan", "on"],
        env=_with_newsflow_on_path(server_environ(env)),
        stdin=subprocess.DEVNULL,
    )
    server = TemporaryServer(process, port, target)
    target["PREFECT_API_URL"] = server.api_url
    return server


def log_level(verbose: bool) -> str:
    """Prefect's log level for a run (``PREFECT_LOGGING_LEVEL`` unless the user set it): its INFO
    logs (flow and task runs) with ``--verbose``, else warnings and errors only."""
    return "INFO" if verbose else "WARNING"


#: The server :func:`launch_early` launched and what it was launched for, until ``run`` takes it
#: (:func:`take_early`) or the command ends (:func:`discard_early`).
_EARLY: list[tuple[TemporaryServer, bool, object]] = []


def launch_early(verbose: bool) -> TemporaryServer | None:
    """Launch the temporary server for a run whose options are not parsed yet (``flows/main.py``),
    with the log level ``verbose`` asks for, and sample the machine's CPU then (see
    :func:`flows.cpu.CpuSample`). None when Prefect would start no such server."""
    discard_early()
    server = start(defaults={"PREFECT_LOGGING_LEVEL": log_level(verbose)})
    if server is not None:
        from flows.cpu import CpuSample

        _EARLY.append((server, verbose, CpuSample.now()))
    return server


def take_early(verbose: bool) -> tuple[TemporaryServer, object] | None:
    """The server :func:`launch_early` launched, and the CPU sample taken then, for a run whose
    parsed options ask for ``verbose``: None (the server stopped) when it was launched for the
    other log level, or when there is none."""
    if not _EARLY:
        return None
    server, launched_verbose, sample = _EARLY.pop()
    if launched_verbose != verbose:
        server.stop()
        return None
    return server, sample


def discard_early() -> None:
    """Stop a server :func:`launch_early` launched that no run took."""
    while _EARLY:
        _EARLY.pop()[0].stop()
