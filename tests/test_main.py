"""The ``newsflow`` entry point: Prefect's temporary server launched before the command line is
parsed, adopted by ``run``, and stopped whatever else happens."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flows.main import early_run
from tests.test_cli import REPO, SEED

# Runs flows.main.main(argv) in a process of its own, every launch of the temporary server
# recorded: whether typer (the command line) was imported yet, the log level the server was
# given, its process id, and whether its process had ended by the time the command ended. The
# record is written (JSON) to the file named by the second argument.
DRIVER = textwrap.dedent("""
    import json, os, sys
    from flows import ephemeral
    launches = []
    real_start = ephemeral.start
    def start(*args, **kwargs):
        server = real_start(*args, **kwargs)
        if server is not None:
            level = (kwargs.get("defaults") or {}).get("PREFECT_LOGGING_LEVEL")
            launches.append({"server": server, "typer_imported": "typer" in sys.modules, "level": level})
        return server
    ephemeral.start = start
    from flows.main import main
    code = 0
    try:
        main(json.loads(sys.argv[1]))
    except SystemExit as exc:
        code = exc.code or 0
    with open(sys.argv[2], "w") as f:
        json.dump({"code": code, "api_url_left": "PREFECT_API_URL" in os.environ, "launches": [
            {"typer_imported": x["typer_imported"], "level": x["level"], "pid": x["server"].process.pid,
             "stopped": x["server"].process.poll() is not None} for x in launches]}, f)
""")


def _main(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[dict, str]:
    """``flows.main.main(argv)`` run by :data:`DRIVER`: its record, and what it printed. Output
    goes to files, not pipes, so that a server left running (which would hold a pipe open) fails
    the test instead of hanging it; such a server is killed here."""
    record_path, out_path = cwd / "record.json", cwd / "out.txt"
    with open(out_path, "w") as out:
        done = subprocess.run([sys.executable, "-c", DRIVER, json.dumps(argv), str(record_path)], cwd=cwd,
                              env=env, stdout=out, stderr=subprocess.STDOUT, timeout=600)
    printed = out_path.read_text("utf-8")
    assert done.returncode == 0, printed
    record = json.loads(record_path.read_text("utf-8"))
    for launch in record["launches"]:
        if not launch["stopped"]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(launch.pop("pid"), signal.SIGKILL)
        else:
            launch.pop("pid")
    return record, printed


def _summary(printed: str) -> dict:
    """The run's JSON summary among the lines the command printed."""
    return next(json.loads(line) for line in reversed(printed.splitlines()) if line.startswith('{"run_id"'))


@pytest.mark.parametrize(("args", "expected"), [
    (["run"], False),
    (["run", "--raw", "raw", "--json"], False),
    (["run", "-v"], True),
    (["run", "--full", "--verbose"], True),
    (["run", "--help"], None),
    (["run", "--raw", "raw", "--dask-address", "tcp://10.0.0.5:8786"], None),
    (["run", "--dask-address=tcp://10.0.0.5:8786"], None),
    (["run", "--", "-v"], False),  # after --, words are arguments, not options
    (["sql", "SELECT 1"], None),
    (["--help"], None),
    ([], None),
])
def test_which_arguments_launch_the_server_early(args: list[str], expected: bool | None):
    assert early_run(args) is expected


def test_a_run_adopts_the_server_launched_before_its_arguments_were_parsed(tmp_path: Path, cli_env):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / SEED.name).write_bytes(SEED.read_bytes())
    record, printed = _main(["run", "--raw", str(raw), "--warehouse", str(tmp_path / "wh"), "--json"],
                         tmp_path, cli_env)
    assert record["code"] == 0, printed
    # one server, launched before the command line was even imported, and stopped at the end:
    # a run that did not adopt it would have launched a second one
    assert record["launches"] == [{"typer_imported": False, "level": "WARNING", "stopped": True}]
    assert not record["api_url_left"]
    summary = _summary(printed)
    assert summary["files_new"] == 1 and summary["articles"] >= 1


def test_a_server_launched_for_the_wrong_log_level_is_stopped_and_another_one_runs(tmp_path: Path, cli_env):
    """``--raw -v``: ``-v`` is the raw directory's name, not --verbose, as typer reads it. The
    server launched for --verbose's log level is stopped, and the run starts one of its own."""
    raw = tmp_path / "-v"
    raw.mkdir()
    (raw / SEED.name).write_bytes(SEED.read_bytes())
    record, printed = _main(["run", "--raw", "-v", "--warehouse", str(tmp_path / "wh"), "--json"],
                         tmp_path, cli_env)
    assert record["code"] == 0, printed
    assert [x["level"] for x in record["launches"]] == ["INFO", None]
    assert all(x["stopped"] for x in record["launches"])
    assert _summary(printed)["files_new"] == 1


@pytest.mark.parametrize("argv", [
    ["run", "--raw", "no-such-directory"],  # run stops (exit 2) before it takes the server
    ["run", "--batch-size", "zero"],  # typer stops (usage error) before run is called
])
def test_a_server_no_run_takes_is_stopped_before_the_command_ends(tmp_path: Path, cli_env, argv: list[str]):
    record, printed = _main(argv, tmp_path, cli_env)
    assert record["code"] == 2, printed
    assert len(record["launches"]) == 1 and record["launches"][0]["stopped"]
    assert not record["api_url_left"]


def test_help_launches_no_server(tmp_path: Path, cli_env):
    record, printed = _main(["run", "--help"], tmp_path, cli_env)
    assert record["code"] == 0 and record["launches"] == []
    assert "--raw" in printed


def test_the_installed_command_is_the_entry_point():
    text = (REPO / "pyproject.toml").read_text("utf-8")
    assert 'newsflow = "flows.main:main"' in text
