"""The ``newsflow`` command: ``run`` builds the warehouse, ``sql`` queries it, ``eval`` scores it."""

from __future__ import annotations

import atexit
import gc
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

import flows  # noqa: F401  - sets newsflow's Prefect settings before prefect is imported

app = typer.Typer(
    name="newsflow",
    help="Raw text of Chinese newspaper pages -> Parquet tables queried through DuckDB.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

MAX_CELL = 60  # characters shown of one cell in `newsflow sql`
MAX_ROWS = 200  # rows shown of one result
PROGRESS_MIN_FILES = 20  # show a progress bar from this many files on

RawOpt = Annotated[
    Path, typer.Option("--raw", help="Directory of raw page files (*.txt, searched recursively).")
]
WarehouseOpt = Annotated[
    Path, typer.Option("--warehouse", help="Warehouse directory (Parquet tables + newsflow.duckdb).")
]


@app.command()
def run(
    raw: RawOpt = Path("raw"),
    warehouse: WarehouseOpt = Path("warehouse"),
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Files per batch (one Parquet part of every table); a Prefect task runs a few batches in a row.")
    ] = 25,  # flows.pipeline.DEFAULT_BATCH_SIZE (not imported here: it imports Prefect)
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show Prefect's INFO logs (flow and task runs).")
    ] = False,
    full: Annotated[
        bool, typer.Option("--full", help="Rebuild every table from every raw file (not only what changed).")
    ] = False,
    processes: Annotated[
        Optional[int],
        typer.Option("--processes", min=1, help="Worker processes of the default runner (default: one per core, "
                     "as memory allows; or $NEWSFLOW_PROCESSES)."),
    ] = None,
    workers: Annotated[
        Optional[int], typer.Option("--workers", min=1, help="Run the batches on a local Dask cluster of N processes.")
    ] = None,
    dask_address: Annotated[
        Optional[str], typer.Option("--dask-address", help="Run the batches on an existing Dask cluster (tcp://host:port).")
    ] = None,
    lock_timeout: Annotated[
        float,
        typer.Option(
            "--lock-timeout", min=0,
            help="Seconds to wait for another run on the same warehouse to finish (0: do not wait).",
        ),
    ] = 0.0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the run's summary as one JSON object (stage seconds included).")
    ] = False,
) -> None:
    """Bring the warehouse up to date with the raw files (new, changed, removed); print a summary.

    Only new and changed files are processed (by content hash); `--full` rebuilds everything.
    Files that cannot be decoded or laid out are quarantined (listed, not fatal). Exits non-zero
    only when the run itself cannot be carried out.
    """
    _skip_collection_at_exit()
    if not raw.is_dir():
        err_console.print(f"[red]error:[/red] raw directory not found: {raw}")
        raise typer.Exit(2)
    if warehouse.exists() and not warehouse.is_dir():
        err_console.print(f"[red]error:[/red] warehouse is not a directory: {warehouse}")
        raise typer.Exit(2)
    if processes is not None:
        if workers or dask_address:
            err_console.print("[red]error:[/red] --processes sets the default runner's processes; "
                              "with --workers or --dask-address, Dask's workers run the batches")
            raise typer.Exit(2)
        from flows.cpu import PROCESSES_ENV

        os.environ[PROCESSES_ENV] = str(processes)  # read by the flow's runner (flows.cpu)
    _check_processes()

    # Prefect reads its settings once, at import: choose its log level before importing it.
    # Without --verbose only warnings and errors (e.g. "3 of 10 files quarantined") are logged;
    # a PREFECT_LOGGING_LEVEL already set wins.
    from flows import ephemeral

    os.environ.setdefault("PREFECT_LOGGING_LEVEL", ephemeral.log_level(verbose))

    # Prefect's temporary API server boots while the pipeline's modules are imported, instead of
    # after (see flows/ephemeral.py): launched by the command's entry point before the command
    # line was parsed (flows/main.py), else now; workers set in with --dask-address are left to
    # Prefect
    early = ephemeral.take_early(verbose) if not dask_address else None
    if early is not None:
        server, cpu_at_start = early
    else:
        from flows.cpu import CpuSample

        cpu_at_start = CpuSample.now()  # what the machine does besides this run, from now on
        server = ephemeral.start() if not dask_address else None
    try:
        _run(raw, warehouse, full=full, batch_size=batch_size, workers=workers, dask_address=dask_address,
             lock_timeout=lock_timeout, as_json=as_json, server=server, cpu_at_start=cpu_at_start)
    finally:
        if server is not None:
            _drain_events()  # the run's events still queued go to the server before it stops
            server.stop()


def _check_processes() -> None:
    """Stop the command (exit 2) when ``NEWSFLOW_PROCESSES`` is set to no count of processes,
    before anything starts (the flow's task runner reads it)."""
    from flows.cpu import processes_setting

    try:
        processes_setting()
    except ValueError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None


def _skip_collection_at_exit() -> None:
    """Once the command has done all it does, let the interpreter end without its last garbage
    collections: :func:`gc.freeze`, registered before anything Prefect registers (exit handlers
    run last-registered first), so after all of theirs. By then the warehouse is committed and
    its lock released; the collections only traversed what Prefect, pydantic and the rest had
    built (millions of objects) to free memory the process hands back as it ends: 0.48-0.56 ->
    0.17-0.18 s from the last exit handler to the process's end (reruns over the dev pages)."""
    if not _EXIT_HOOK:
        atexit.register(gc.freeze)
        _EXIT_HOOK.append(gc.freeze)


_EXIT_HOOK: list[object] = []


def _drain_events() -> None:
    if "prefect.events.worker" in sys.modules:
        from prefect.events.worker import EventsWorker

        EventsWorker.drain_all(timeout=10, at_exit=False)


@contextmanager
def _api(server: Any) -> Iterator[None]:
    """The settings the flow runs under: naming the temporary server newsflow started, once it
    answers (Prefect's settings of this process were read before; its threads and workers read
    the environment), its flow runs without heartbeats (:data:`HEARTBEAT_SETTINGS`); Prefect's
    own (which start a server when needed) if newsflow started none. The settings are built
    before the wait for the server (some 35 ms of CPU in pydantic), not after its first answer."""
    if server is None:
        yield
        return
    _import_flow_start()  # while the server boots, not once it answers
    from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    updates: dict[Any, Any] = {PREFECT_API_URL: server.api_url}
    if not any(name in os.environ for name in HEARTBEAT_SETTINGS):
        updates[PREFECT_FLOWS_HEARTBEAT_FREQUENCY] = None
    with temporary_settings(updates=updates):
        timeout = float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120"))
        if not server.ready(timeout):
            raise RuntimeError(f"Prefect's temporary server did not answer within {timeout:.0f} s")
        yield


#: The names Prefect reads the flow runs' heartbeat interval under. A flow run on the temporary
#: server newsflow started sends none (unless the user set one of these): heartbeats let a server
#: notice a run that died, and this server ends with the run. Prefect's heartbeat thread sleeps
#: a second at a time, and the flow run waits for the sleep under way as it finishes: 0.75-0.85 s
#: at the end of every run, a rerun with nothing to do included.
HEARTBEAT_SETTINGS = ("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "PREFECT_RUNNER_HEARTBEAT_FREQUENCY")


#: What Prefect imports when a flow run starts, not before: its flow engine, and FastAPI's JSON
#: encoder, with which it serialises the flow's parameters (some 0.2 s of CPU in all). Imported
#: while this process waits for the temporary server, they are no longer on the path from the
#: server's first answer to the first file read.
FLOW_START_MODULES = ("prefect.flow_engine", "prefect.utilities.visualization", "fastapi.encoders")


def _import_flow_start() -> None:
    import importlib

    for name in FLOW_START_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:  # another Prefect: it imports what it needs itself
            pass


def _run(raw: Path, warehouse: Path, *, full: bool, batch_size: int, workers: int | None,
         dask_address: str | None, lock_timeout: float, as_json: bool, server: Any,
         cpu_at_start: Any = None) -> None:
    """The body of ``newsflow run``, once Prefect's server (if newsflow starts it) is on its way."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from flows.pipeline import (discard_prestarted_workers, newsflow_run, prestart_workers,
                                progress_callback, spare_core, task_runner)

    started = time.perf_counter()
    progress = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )
    bar: dict[str, int] = {}

    def on_progress(done: int, total: int) -> None:
        if total < PROGRESS_MIN_FILES or not err_console.is_terminal:
            return
        if "id" not in bar:
            progress.start()
            bar["id"] = progress.add_task("files", total=total)
        progress.update(bar["id"], completed=done)

    from tasks import store

    try:
        lock = store.warehouse_lock(warehouse, timeout=lock_timeout)
        lock.__enter__()
    except store.LockTimeout as exc:
        err_console.print(
            f"[red]error:[/red] warehouse is locked: {exc}. Wait for that run to finish, or pass "
            "--lock-timeout SECONDS to wait for it.",
            highlight=False,
        )
        raise typer.Exit(3) from None
    default_runner = not (workers or dask_address)
    try:
        if default_runner and server is not None and spare_core(cpu_at_start, [server.process.pid]):
            # the workers import the pipeline and load their dictionaries while the server boots
            prestart_workers()
        with progress_callback(on_progress), _api(server):
            flow_ = newsflow_run
            if not default_runner:
                flow_ = newsflow_run.with_options(task_runner=task_runner(workers, dask_address))
            summary = flow_(raw=raw, warehouse=warehouse, batch_size=batch_size, full=full)
    except Exception as exc:  # noqa: BLE001 - the run could not be carried out
        err_console.print(f"[red]error:[/red] run failed: {type(exc).__name__}: {exc}")
        raise typer.Exit(1) from None
    finally:
        if default_runner:
            discard_prestarted_workers()  # when the run failed before its flow adopted them
        if "id" in bar:
            progress.stop()
        lock.__exit__(None, None, None)
    seconds = time.perf_counter() - started
    if as_json:
        import json

        print(json.dumps({**summary.as_dict(), "command_seconds": round(seconds, 3)}, ensure_ascii=False))
        return

    table = Table(title="newsflow run", show_header=True, header_style="bold")
    for col in ("files", "new", "changed", "unchanged", "removed", "processed",
                "articles", "tokens", "quarantined", "seconds"):
        table.add_column(col, justify="right")
    table.add_row(
        str(summary.files),
        str(summary.files_new),
        str(summary.files_changed),
        str(summary.files_unchanged),
        str(summary.files_removed),
        str(summary.processed),
        str(summary.articles),
        str(summary.tokens),
        str(summary.quarantined),
        f"{seconds:.1f}",
    )
    console.print(table)
    if summary.quarantine:
        q = Table(title="quarantined", show_header=True, header_style="bold")
        q.add_column("file")
        q.add_column("reason", overflow="fold")
        for path, reason in summary.quarantine.items():
            q.add_row(path, reason)
        console.print(q)
    console.print(f"warehouse: {summary.warehouse}")


@app.command()
def sql(
    query: Annotated[
        Optional[str], typer.Argument(help="One SQL statement; omit for an interactive prompt.")
    ] = None,
    warehouse: WarehouseOpt = Path("warehouse"),
) -> None:
    """Run SQL over the warehouse tables (documents, articles, paragraphs, sentences, tokens)."""
    import duckdb

    from tasks import store

    if not store.table_names(warehouse):
        err_console.print(
            f"[red]error:[/red] no tables in {warehouse} - run `newsflow run` first"
        )
        raise typer.Exit(1)
    con = store.connect(warehouse)
    try:
        if query is not None:
            if not _run_query(con, query, duckdb):
                raise typer.Exit(1)
        else:
            _repl(con, duckdb)
    finally:
        con.close()


@app.command()
def serve(
    raw: RawOpt = Path("raw"),
    warehouse: WarehouseOpt = Path("warehouse"),
    cron: Annotated[str, typer.Option("--cron", help="When to run, a cron expression (UTC).")] = "0 6 * * *",
    name: Annotated[str, typer.Option("--name", help="Deployment name.")] = "newsflow-daily",
) -> None:
    """Serve the pipeline as a Prefect deployment on a schedule (runs until interrupted).

    With no Prefect server configured, a temporary local one lives as long as this command; to
    see the runs in the Prefect UI, start `prefect server start` first and set PREFECT_API_URL.
    """
    if not raw.is_dir():
        err_console.print(f"[red]error:[/red] raw directory not found: {raw}")
        raise typer.Exit(2)
    _check_processes()
    from prefect import serve as prefect_serve
    from prefect.client.schemas.schedules import CronSchedule

    try:
        CronSchedule(cron=cron)
    except ValueError:
        err_console.print(f"[red]error:[/red] not a cron expression: {cron!r}")
        raise typer.Exit(2) from None

    from flows.serve import build_deployment

    from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

    from flows.serve import local_prefect_server

    deployment = build_deployment(raw, warehouse, cron=cron, name=name)
    if get_current_settings().api.url:
        console.print(f"serving {deployment.name} ({cron}) on {get_current_settings().api.url}")
        prefect_serve(deployment)
        return
    # Prefect's temporary server runs no scheduler: a schedule needs a real one. Start one here,
    # for as long as this command runs, with its database in newsflow's Prefect home.
    with local_prefect_server() as api_url, temporary_settings(updates={PREFECT_API_URL: api_url}):
        console.print(f"serving {deployment.name} ({cron}) over {raw.resolve()} -> {warehouse.resolve()}; "
                      f"Prefect UI at {api_url.removesuffix('/api')}")
        prefect_serve(deployment)


@app.command()
def quarantine(
    warehouse: WarehouseOpt = Path("warehouse"),
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line instead of a table.")] = False,
) -> None:
    """List the files the last run set aside, and why (documents with status 'quarantined')."""
    import json

    from tasks import store

    if not store.table_names(warehouse):
        err_console.print(f"[red]error:[/red] no tables in {warehouse} - run `newsflow run` first")
        raise typer.Exit(1)
    con = store.connect(warehouse)
    try:
        rows = con.execute(
            "SELECT source_path, error, bytes, encoding, sha256, run_id FROM documents "
            "WHERE status = 'quarantined' ORDER BY source_path"
        ).fetchall()
    finally:
        con.close()
    if as_json:
        for r in rows:
            print(json.dumps(dict(zip(("source_path", "error", "bytes", "encoding", "sha256", "run_id"), r)),
                             ensure_ascii=False))
        return
    if not rows:
        console.print("no quarantined files")
        return
    table = Table(title=f"{len(rows)} quarantined file(s)")
    for col in ("source_path", "error", "bytes"):
        table.add_column(col, overflow="fold")
    for source_path, error, size, *_ in rows:
        table.add_row(source_path, error or "", str(size))
    console.print(table)


@app.command("eval")
def eval_(
    gold: Annotated[
        Path, typer.Argument(help="A gold page (JSON) or a directory of them, e.g. ../shared/corpus/dev/gold.")
    ],
    warehouse: WarehouseOpt = Path("warehouse"),
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a table.")] = False,
) -> None:
    """Score the warehouse's articles against gold pages (the metric is described in the README)."""
    import json

    from tasks import store
    from tasks.evaluate import evaluate_warehouse

    if not gold.exists():
        err_console.print(f"[red]error:[/red] gold not found: {gold}")
        raise typer.Exit(2)
    if not store.table_names(warehouse):
        err_console.print(f"[red]error:[/red] no tables in {warehouse} - run `newsflow run` first")
        raise typer.Exit(1)
    try:
        figures = evaluate_warehouse(gold, warehouse).as_dict()
    except ValueError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    if as_json:
        print(json.dumps(figures))
        return
    table = Table(title="newsflow eval")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for name, value in figures.items():
        table.add_row(name, f"{value:.4f}" if isinstance(value, float) else str(value))
    console.print(table)


@app.command("eval-ner")
def eval_ner(
    bio: Annotated[Path, typer.Argument(help="A BIO file: one character and its tag per line, a blank line between sentences.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object (on the last line) instead of a table.")
    ] = False,
    model: Annotated[
        bool, typer.Option("--model/--no-model", help="Use the statistical (CRF) model, or rules, dictionary and jieba tags only.")
    ] = True,
) -> None:
    """Score the entity extractor on a BIO file: exact-span precision, recall and F1 per label
    (PER, LOC, ORG; GPE counts as LOC), each sentence run as one text."""
    import json

    from tasks.evaluate_ner import evaluate_bio
    from tasks.ner import get_extractor

    if not bio.is_file():
        err_console.print(f"[red]error:[/red] BIO file not found: {bio}")
        raise typer.Exit(2)
    extractor = get_extractor() if model else get_extractor(model=None)
    try:
        scores = evaluate_bio(bio, extractor)
    except ValueError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    if as_json:
        print(json.dumps({label: {k: round(float(v), 4) if k in ("precision", "recall", "f1") else v
                                  for k, v in s.items()} for label, s in scores.items()}))
        return
    table = Table(title=f"newsflow eval-ner ({'CRF model + rules' if model else 'rules only'})")
    for col in ("label", "precision", "recall", "f1", "gold", "predicted"):
        table.add_column(col, justify="right" if col != "label" else "left")
    for label, s in scores.items():
        table.add_row(label, *(f"{s[k]:.3f}" for k in ("precision", "recall", "f1")),
                      str(int(s.get("gold", 0))), str(int(s.get("predicted", 0))))
    console.print(table)


def _run_query(con, query: str, duckdb) -> bool:
    """Run one statement and print its result; on a DuckDB error print its message."""
    try:
        cur = con.execute(query)
        columns = [d[0] for d in cur.description] if cur.description else []
        rows = cur.fetchmany(MAX_ROWS + 1) if columns else []
    except duckdb.Error as exc:
        err_console.print(f"[red]{type(exc).__name__}:[/red] {exc}", markup=True, highlight=False)
        return False
    if not columns:
        console.print("ok")
        return True
    table = Table(show_header=True, header_style="bold", show_lines=False)
    for col in columns:
        table.add_column(str(col), overflow="ellipsis", no_wrap=True, max_width=MAX_CELL)
    for row in rows[:MAX_ROWS]:
        table.add_row(*(_cell(v) for v in row))
    console.print(table)
    more = " (more not shown)" if len(rows) > MAX_ROWS else ""
    console.print(f"{min(len(rows), MAX_ROWS)} row(s){more}")
    return True


def _cell(value) -> str:
    if value is None:
        return "NULL"
    text = str(value).replace("\n", "\\n")
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def _repl(con, duckdb) -> None:
    """Read statements ending in ';' until EOF or `.quit`."""
    interactive = sys.stdin.isatty()
    if interactive:
        console.print("newsflow sql - end statements with ';', `.tables` lists tables, `.quit` quits")
    buffer: list[str] = []
    while True:
        prompt = "...> " if buffer else "sql> "
        try:
            line = input(prompt) if interactive else sys.stdin.readline()
        except (EOFError, KeyboardInterrupt):
            break
        if not interactive and line == "":
            break
        line = line.rstrip("\n")
        if not buffer and line.strip() in (".quit", ".exit"):
            break
        if not buffer and line.strip() == ".tables":
            _run_query(con, "SELECT table_name FROM information_schema.tables ORDER BY 1", duckdb)
            continue
        buffer.append(line)
        statement = "\n".join(buffer).strip()
        if statement.endswith(";"):
            buffer.clear()
            if statement.strip(";").strip():
                _run_query(con, statement, duckdb)
    leftover = "\n".join(buffer).strip()
    if leftover:
        _run_query(con, leftover, duckdb)


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
