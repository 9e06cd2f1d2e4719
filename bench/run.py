"""newsflow's benchmark: how close the whole pipeline comes to the segmenter's own speed.

    .venv/bin/python bench/run.py [--dev ../shared/corpus/dev] [--mb 50] [--small-mb 10] [--work DIR]

Builds a corpus of at least ``--mb`` MB from copies of the dev pages (each copy under its own
issue date, its text made unique with a line of its own, so no content hash matches another),
then measures, on that same text:

* limit     ``rjieba.tag`` alone over the article text newsflow reconstructed, one process (MB/s
            of article text);
* naive     a straightforward pipeline on a 2 MB sample: read, split paragraphs at blank lines,
            ``jieba.posseg.cut`` per paragraph, one dict per token row, a DataFrame, Parquet;
* newsflow  ``newsflow run`` from an empty warehouse to every table written and validated, with
            the default workers: start-up (command -> first file read) on its own, throughput as
            raw MB / seconds after start-up, seconds per stage, and what is left for Prefect;
            once with every stage but the statistical entity model (NEWSFLOW_NER_MODEL=0), once
            with every stage;
* rerun     ``newsflow run`` again with nothing changed;
* memory    peak RSS of the newsflow process tree at ``--mb`` and at ``--small-mb``;
* CPU       the CPU seconds of the flow's process, Prefect's server and the workers of each run, in
            all and before the first file read (Prefect's own cost beside the stages' seconds).

Prints a table per measure, then one line of figures (see the end of main()). Needs only the
project's own environment (psutil comes with it). Prefect's database is created by a warm-up run
first, so start-up is that of a machine where newsflow has run before.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

MB = 1_000_000


# --------------------------------------------------------------------------- corpus


def build_corpus(dev_raw: Path, target: Path, mb: float, *, offset_days: int = 0) -> tuple[int, int]:
    """Copies of the dev pages below ``target`` until ``mb`` MB: copy k of a page moves to the
    issue date + (k * 14 + offset_days) days and gets a line of its own (numbered, so no two files
    are alike). Returns (files, bytes)."""
    pages = sorted(dev_raw.rglob("*.txt"))
    if not pages:
        raise SystemExit(f"no pages below {dev_raw}")
    texts = [(p.relative_to(dev_raw), p.read_bytes()) for p in pages]
    if target.exists():
        shutil.rmtree(target)
    files = size = 0
    k = 0
    while size < mb * MB:
        for rel, data in texts:
            pub, date_dir, name = rel.parts[-3], rel.parts[-2], rel.parts[-1]
            day = dt.date.fromisoformat(date_dir) + dt.timedelta(days=k * 14 + offset_days)
            out = target / pub / day.isoformat() / name
            out.parent.mkdir(parents=True, exist_ok=True)
            unique = f"\n\n（本版存档副本 {k:04d}-{files:06d}）\n".encode()  # no two files alike
            out.write_bytes(data + unique)
            files += 1
            size += len(data) + len(unique)
            if size >= mb * MB:
                break
        k += 1
    return files, size


# --------------------------------------------------------------------------- memory and CPU


def process_role(cmdline: list[str], root: bool) -> str:
    """What a process of the run's tree is: the tree's root is the flow's own process; the others,
    by their command line, Prefect's temporary server (uvicorn), multiprocessing's resource
    tracker ("other"), or a worker."""
    if root:
        return "flow"
    line = " ".join(cmdline)
    if "uvicorn" in line:
        return "server"
    if "resource_tracker" in line:
        return "other"
    return "workers"


def cpu_by_role(samples: dict[int, tuple[str, list[tuple[float, float]]]], at: float | None = None) -> dict[str, float]:
    """CPU seconds per role, summed over the processes of ``samples`` (pid -> (role, [(time,
    user + system CPU)])): each process's last sample, or its last sample at or before ``at``
    (a process not seen by then counts 0)."""
    out = {"flow": 0.0, "server": 0.0, "workers": 0.0, "other": 0.0}
    for role, series in samples.values():
        seen = [cpu for t, cpu in series if at is None or t <= at]
        if seen:
            out[role] += seen[-1]
    return out


class PeakRss:
    """Samples the RSS of a process and all its descendants every ``interval`` s; keeps the peak,
    and each process's CPU time as it goes (:attr:`cpu`: pid -> (role, [(time, seconds)]); a
    process's last ``interval`` of CPU before it ends is not seen)."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        import psutil

        self._proc = psutil.Process(pid)
        self._psutil = psutil
        self.peak = 0
        self.cpu: dict[int, tuple[str, list[tuple[float, float]]]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._interval = interval

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                procs = [self._proc, *self._proc.children(recursive=True)]
            except self._psutil.Error:
                break
            total = 0
            now = time.time()
            for p in procs:
                try:
                    total += p.memory_info().rss
                    times = p.cpu_times()
                    if p.pid not in self.cpu:
                        self.cpu[p.pid] = (process_role(p.cmdline(), p.pid == self._proc.pid), [])
                    self.cpu[p.pid][1].append((now, times.user + times.system))
                except self._psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            time.sleep(self._interval)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


# --------------------------------------------------------------------------- newsflow


#: What each stage of a run's report holds (``newsflow run --json``'s stage_seconds), the issue's
#: "clean" among them. The workers' stages, then the three the flow waits for.
STAGES = (
    ("read", "files read and decoded: encoding, BOM, line ends (the first of the cleaning)"),
    ("layout", "page text cleaned and laid out: PDF spaces, hard wraps, column breaks -> blocks -> "
               "articles, bylines, datelines, continuations"),
    ("load", "the segmenter and the extractors made ready (once per worker; cached)"),
    ("segment", "rjieba's words and tags"),
    ("extract", "entities (rules and the CRF), dates, quantities"),
    ("tables", "rows and frames of every table"),
    ("validate", "the Pandera models, cross-table checks, quarantine"),
    ("keywords", "each batch's word counts and keyword candidates; once the IDF is known, every "
                 "part's TF-IDF and TextRank keywords"),
    ("write", "the batch's Parquet parts"),
    ("keywords_idf", "the flow: the IDF of the whole warehouse (in a worker, the flow waiting)"),
    ("keep", "the flow: unchanged parts kept (incremental runs)"),
    ("commit", "the flow: the warehouse's new version switched in, its catalog"),
)
#: The stages the flow waits for (every other stage is a worker's, spread over the workers)
FLOW_STAGES = ("keywords_idf", "keep", "commit")


def newsflow_run(raw: Path, warehouse: Path, env: dict[str, str], cwd: Path) -> dict:
    """One ``newsflow run --json``: its summary plus start, end and peak RSS seen from outside."""
    cmd = [str(Path(sys.executable).with_name("newsflow")), "run", "--raw", str(raw),
           "--warehouse", str(warehouse), "--json"]
    t0 = time.time()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with PeakRss(proc.pid) as rss:
        out, err = proc.communicate()
    t1 = time.time()
    if proc.returncode != 0:
        raise SystemExit(f"newsflow run failed ({proc.returncode}):\n{out}\n{err}")
    summary = json.loads(out.strip().splitlines()[-1])
    summary.update(t0=t0, t1=t1, peak_rss=rss.peak, cpu_samples=rss.cpu)
    return summary


def newsflow_figures(summary: dict, raw_bytes: int) -> dict:
    first = summary.get("first_read_at") or summary["t0"]
    startup = first - summary["t0"]
    after = summary["t1"] - first
    stages = summary.get("stage_seconds", {})
    workers = summary.get("processes") or 1  # the run's worker processes (flows.cpu.default_processes)
    in_workers = sum(v for s, v in stages.items() if s not in FLOW_STAGES)
    in_flow = sum(stages.get(s, 0.0) for s in FLOW_STAGES)
    # the work itself, spread over the workers, plus what the flow does on its own
    busy = in_workers / workers + in_flow
    return {
        "startup_s": startup,
        "after_startup_s": after,
        "mb_per_s": raw_bytes / MB / after,
        "stages": stages,
        "prefect_and_waiting_s": max(0.0, after - busy),
        "peak_rss_mb": summary["peak_rss"] / 2**20,
        "command_s": summary["t1"] - summary["t0"],
        "articles": summary["articles"],
        "tokens": summary["tokens"],
        "processes": workers,
        # CPU seconds of the tree's processes (sampled): in all, and before the first file read
        "cpu": cpu_by_role(summary.get("cpu_samples", {})),
        "cpu_startup": cpu_by_role(summary.get("cpu_samples", {}), at=first),
    }


# --------------------------------------------------------------------------- limit and naive


def article_text(warehouse: Path) -> list[str]:
    import polars as pl

    return pl.read_parquet(str(warehouse / "articles" / "*.parquet"), columns=["body"])["body"].to_list()


def limit_mb_per_s(bodies: list[str], repeat: int = 3) -> tuple[float, float]:
    """``rjieba.tag`` alone (with newsflow's user dictionary loaded) over every body, one process;
    the best of ``repeat`` passes (a single pass varied from 10 to 17 MB/s on this machine)."""
    from tasks.segment import RjiebaSegmenter

    jieba = RjiebaSegmenter()._jieba
    size = sum(len(b.encode()) for b in bodies)
    secs = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        for body in bodies:
            jieba.tag(body, hmm=True)
        secs = min(secs, time.perf_counter() - t)
    return size / MB / secs, secs


def naive_mb_per_s(raw: Path, sample_mb: float, work: Path) -> tuple[float, float, float]:
    """A straightforward pipeline on the first ``sample_mb`` MB of pages."""
    import jieba
    import jieba.posseg as pseg
    import polars as pl

    jieba.setLogLevel(60)
    jieba.initialize()
    pseg.lcut("预热")  # dictionary loading is not part of the measure
    files, size = [], 0
    for path in sorted(raw.rglob("*.txt")):
        files.append(path)
        size += path.stat().st_size
        if size >= sample_mb * MB:
            break
    t = time.perf_counter()
    rows = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        for p_seq, para in enumerate(p for p in text.split("\n\n") if p.strip()):
            para = para.replace("\n", "")
            pos = 0
            for k, (word, flag) in enumerate(pseg.cut(para)):
                rows.append({"doc": str(path), "paragraph": p_seq, "seq": k, "token": word, "pos": flag,
                             "char_start": pos, "char_end": pos + len(word)})
                pos += len(word)
    df = pl.DataFrame(rows)
    df.write_parquet(work / "naive.parquet")
    secs = time.perf_counter() - t
    return size / MB / secs, secs, size / MB


# --------------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dev", type=Path, default=REPO.parent / "shared" / "corpus" / "dev")
    ap.add_argument("--mb", type=float, default=50.0)
    ap.add_argument("--small-mb", type=float, default=10.0)
    ap.add_argument("--naive-mb", type=float, default=2.0)
    ap.add_argument("--work", type=Path, default=None, help="scratch directory (default: a new temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = ap.parse_args()

    dev_raw = args.dev / "raw" if (args.dev / "raw").is_dir() else args.dev
    work = args.work or Path(tempfile.mkdtemp(prefix="newsflow-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(work / "prefect-home")
    print(f"newsflow benchmark, {dt.datetime.now():%Y-%m-%d %H:%M}, {platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}; scratch {work}")

    big, small, warm = work / "raw-big", work / "raw-small", work / "raw-warm"
    n_big, b_big = build_corpus(dev_raw, big, args.mb)
    n_small, b_small = build_corpus(dev_raw, small, args.small_mb, offset_days=7)
    build_corpus(dev_raw, warm, 0.01, offset_days=3)
    print(f"corpus: {n_big} files, {b_big / MB:.1f} MB; small corpus: {n_small} files, {b_small / MB:.1f} MB")

    newsflow_run(warm, work / "wh-warm", env, work)  # creates Prefect's database: not measured

    runs = {}
    for label, model in (("without model", "0"), ("all stages", "1")):
        wh = work / f"wh-{'nomodel' if model == '0' else 'all'}"
        shutil.rmtree(wh, ignore_errors=True)
        summary = newsflow_run(big, wh, {**env, "NEWSFLOW_NER_MODEL": model}, work)
        runs[label] = newsflow_figures(summary, b_big)
    rerun = newsflow_run(big, work / "wh-all", env, work)
    rerun_fig = newsflow_figures(rerun, b_big)
    shutil.rmtree(work / "wh-small", ignore_errors=True)
    small_fig = newsflow_figures(newsflow_run(small, work / "wh-small", env, work), b_small)

    bodies = article_text(work / "wh-all")
    limit, limit_s = limit_mb_per_s(bodies)
    naive, naive_s, naive_size = naive_mb_per_s(big, args.naive_mb, work)

    print(f"\nlimit: rjieba.tag over {sum(len(b.encode()) for b in bodies) / MB:.1f} MB of article text "
          f"in {limit_s:.1f} s = {limit:.2f} MB/s (one process)")
    print(f"naive: jieba.posseg per paragraph, dict rows, Parquet: {naive_size:.1f} MB in {naive_s:.1f} s "
          f"= {naive:.3f} MB/s")
    print("\nstages:")
    for name, what in STAGES:
        print(f"  {name:<13}{what}")
    for label, f in runs.items():
        print(f"\nnewsflow run ({label}), {b_big / MB:.1f} MB, {f['articles']} articles, {f['tokens']} tokens, "
              f"{f['processes']} worker processes:")
        print(f"  start-up {f['startup_s']:.2f} s; then {f['after_startup_s']:.1f} s = {f['mb_per_s']:.2f} MB/s; "
              f"command {f['command_s']:.1f} s; peak RSS {f['peak_rss_mb']:.0f} MB")
        stages = ", ".join(f"{k} {v:.1f}" for k, v in sorted(f["stages"].items(), key=lambda kv: -kv[1]))
        print(f"  stage seconds (summed over workers): {stages}")
        print(f"  Prefect, scheduling and waiting (wall time not explained by the stages): "
              f"{f['prefect_and_waiting_s']:.1f} s")
        cpu, early = f["cpu"], f["cpu_startup"]
        print(f"  CPU seconds (sampled every 0.05 s; before the first file read in brackets): "
              f"the flow's process {cpu['flow']:.1f} ({early['flow']:.1f}), Prefect's server "
              f"{cpu['server']:.1f} ({early['server']:.1f}), worker processes {cpu['workers']:.1f} "
              f"({early['workers']:.1f}); after start-up, the flow's process and the server "
              f"{cpu['flow'] - early['flow'] + cpu['server'] - early['server']:.1f}")
    # a rerun reads no file, so its start-up cannot be told apart from outside: "beyond start-up"
    # is the flow's own time (from the flow run's start, Prefect's server already up, to its end)
    rerun_s = float(rerun["seconds"])
    print(f"\nrerun, nothing changed: {rerun_fig['command_s']:.2f} s in all, {rerun_s:.2f} s in the flow "
          f"(hashing every file, finding nothing to do, logging the run)")
    print(f"peak RSS: {runs['all stages']['peak_rss_mb']:.0f} MB at {b_big / MB:.0f} MB, "
          f"{small_fig['peak_rss_mb']:.0f} MB at {b_small / MB:.0f} MB")

    no_model, all_on = runs["without model"], runs["all stages"]
    print(
        f"throughput_ratio={no_model['mb_per_s'] / limit:.3f} "
        f"throughput_ratio_all={all_on['mb_per_s'] / limit:.3f} "
        f"speedup_vs_naive={all_on['mb_per_s'] / naive:.1f} "
        f"startup_s={all_on['startup_s']:.2f} "
        f"rerun_s={rerun_s:.2f} "
        f"peak_rss_mb_50={all_on['peak_rss_mb']:.0f} "
        f"peak_rss_mb_10={small_fig['peak_rss_mb']:.0f}"
    )
    if not args.keep and args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
