"""newsflow serve: the pipeline as a Prefect deployment on a schedule."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from test_cli import newsflow, output


def test_deployment_carries_its_schedule_and_absolute_paths(tmp_path: Path, monkeypatch) -> None:
    from flows.serve import build_deployment, newsflow_scheduled

    (tmp_path / "raw").mkdir()
    monkeypatch.chdir(tmp_path)
    dep = build_deployment(Path("raw"), Path("warehouse"), cron="30 5 * * 1-5", name="nightly")
    assert dep.name == "nightly"
    assert dep.flow_name == newsflow_scheduled.name
    assert [s.schedule.cron for s in dep.schedules] == ["30 5 * * 1-5"]
    assert dep.parameters == {"raw": str(tmp_path / "raw"), "warehouse": str(tmp_path / "warehouse")}


def test_deployment_is_created_in_the_prefect_api_with_its_schedule(tmp_path: Path, cli_env) -> None:
    """Register the deployment with a (temporary) Prefect API and read it back from there."""
    (tmp_path / "raw").mkdir()
    script = (
        "import asyncio\n"
        "from pathlib import Path\n"
        "from prefect.client.orchestration import get_client\n"
        "from flows.serve import build_deployment\n"
        "dep = build_deployment(Path('raw'), Path('warehouse'), cron='0 6 * * *')\n"
        "dep_id = dep.apply()\n"
        "async def read():\n"
        "    async with get_client() as client:\n"
        "        d = await client.read_deployment(dep_id)\n"
        "        print('CRON', d.schedules[0].schedule.cron, d.name, d.parameters['raw'])\n"
        "asyncio.run(read())\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=cli_env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"CRON 0 6 * * * newsflow-daily {tmp_path / 'raw'}" in result.stdout


def test_serve_rejects_a_bad_cron_and_a_missing_raw_dir(tmp_path: Path, cli_env) -> None:
    (tmp_path / "raw").mkdir()
    bad = newsflow("serve", "--cron", "every morning", cwd=tmp_path, env=cli_env)
    assert bad.returncode == 2 and "not a cron expression" in output(bad)
    bad = newsflow("serve", cwd=tmp_path, env={**cli_env, "NEWSFLOW_PROCESSES": "0"})
    assert bad.returncode == 2 and "NEWSFLOW_PROCESSES must be a whole number" in " ".join(output(bad).split())
    assert "Traceback" not in output(bad)
    missing = newsflow("serve", "--raw", str(tmp_path / "nope"), cwd=tmp_path, env=cli_env)
    assert missing.returncode == 2 and "raw directory not found" in output(missing)


def test_local_prefect_server_runs_its_scheduler_and_stops(cli_env, monkeypatch) -> None:
    """serve's own server: up (health answers), with the scheduler service, and gone afterwards."""
    import json
    import urllib.request

    from flows.serve import local_prefect_server

    for key, value in cli_env.items():
        if key.startswith("PREFECT_"):
            monkeypatch.setenv(key, value)
    with local_prefect_server() as api_url:
        with urllib.request.urlopen(f"{api_url}/health", timeout=5) as resp:
            assert resp.status == 200
        with urllib.request.urlopen(f"{api_url}/admin/settings", timeout=5) as resp:
            settings = json.loads(resp.read().decode())
        assert settings["server"]["services"]["scheduler"]["enabled"] is True
    try:
        urllib.request.urlopen(f"{api_url}/health", timeout=2)
        raise AssertionError("the server is still up")
    except OSError:
        pass
