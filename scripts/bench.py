#!/usr/bin/env python3
"""Benchmark hangar on a synthetic project.

    scripts/bench.py parse   --models 10000 --runs 5
    scripts/bench.py compile --models 10000 --runs 5
    scripts/bench.py build   --models 1000  --runs 3
    scripts/bench.py build   --models 200   --runs 5 --warehouse postgres

Generates the project once (scripts/generate_synthetic_project.py) under
$TMPDIR/hangar-bench-<N>, builds hangar in release, runs the command several
times and prints the median, min and max wall time and the peak memory of
the hangar process. This machine is shared: compare medians, not single runs.
Before each run the project's files are read once, so the run finds them in
the page cache: this machine's DAMON pageout evicts files nobody has read
for a few seconds, and a parse then starts with ~100 ms of disk reads.

`--warehouse postgres` builds into a database of its own on the PostgreSQL at
$PGHOST:$PGPORT as $PGUSER (default 127.0.0.1:5432, postgres; trust or
~/.pgpass auth), created afresh before each run and dropped at the end.
"""

import argparse
import json
import os
import shutil
from datetime import datetime
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The synthetic project's profile runs 2 threads.
THREADS = 2


def target_dir() -> Path:
    return Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache/hangar/target"))


def build_hangar() -> Path:
    env = dict(os.environ, CARGO_TARGET_DIR=str(target_dir()))
    subprocess.run(
        ["cargo", "build", "--release", "--quiet", "--bin", "hangar"],
        cwd=ROOT, env=env, check=True,
    )
    return target_dir() / "release" / "hangar"


def project_for(models: int) -> Path:
    path = Path(tempfile.gettempdir()) / f"hangar-bench-{models}"
    if not (path / "dbt_project.yml").exists():
        subprocess.run(
            [sys.executable, str(ROOT / "scripts/generate_synthetic_project.py"), str(models), str(path)],
            check=True,
        )
    return path


class Postgres:
    """A benchmark database on the local server, through psql."""

    def __init__(self) -> None:
        if shutil.which("psql") is None:
            sys.exit("--warehouse postgres needs psql on PATH")
        self.host = os.environ.get("PGHOST", "127.0.0.1")
        self.port = os.environ.get("PGPORT", "5432")
        self.user = os.environ.get("PGUSER", "postgres")
        self.dbname = f"hangar_bench_{os.getpid()}"

    def admin(self, sql: str) -> None:
        subprocess.run(
            ["psql", "-h", self.host, "-p", self.port, "-U", self.user, "-d", "postgres",
             "-v", "ON_ERROR_STOP=1", "-q", "-c", sql],
            check=True,
            env=dict(os.environ, PGOPTIONS="-c client_min_messages=warning"),
        )

    def recreate(self) -> None:
        self.drop()
        self.admin(f"create database {self.dbname}")

    def drop(self) -> None:
        self.admin(f"drop database if exists {self.dbname} with (force)")

    def profiles_dir(self, project: Path) -> Path:
        """A profiles.yml for the synthetic project pointing at this database."""
        directory = project / "bench_profiles_postgres"
        directory.mkdir(exist_ok=True)
        (directory / "profiles.yml").write_text(
            "synthetic:\n  target: bench\n  outputs:\n    bench:\n      type: postgres\n"
            f"      host: {self.host}\n      port: {self.port}\n      user: {self.user}\n"
            f"      dbname: {self.dbname}\n      schema: main\n      threads: {THREADS}\n",
            encoding="utf-8",
        )
        return directory


def warm_page_cache(project: Path) -> None:
    """Reads every file of the project (its target/ aside)."""
    for directory, subdirs, files in os.walk(project):
        subdirs[:] = [d for d in subdirs if not (directory == str(project) and d == "target")]
        for name in files:
            with open(os.path.join(directory, name), "rb") as f:
                while f.read(1 << 20):
                    pass


def run_once(binary: Path, command: str, project: Path,
             profiles: Path | None = None) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB, and the command's last output line."""
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.chdir(project)
        devnull = os.open(os.devnull, os.O_WRONLY)
        log = os.open(str(project / "bench.log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(log, 1)
        os.dup2(devnull, 2)
        os.execv(str(binary), [str(binary), command, "--project-dir", str(project),
                               "--profiles-dir", str(profiles or project)])
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        sys.exit(f"hangar {command} failed; see {project / 'bench.log'}")
    last = (project / "bench.log").read_text().strip().splitlines()[-1:] or [""]
    return wall, usage.ru_maxrss / 1024.0, last[0]


def seconds(start: str, end: str) -> float:
    parse = lambda t: datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ")
    return (parse(end) - parse(start)).total_seconds()


def run_split(project: Path) -> tuple[int, float, float]:
    """Nodes, summed compile (render) seconds and summed execute (database) seconds of the last run."""
    results = json.loads((project / "target" / "run_results.json").read_text())["results"]
    compile_s = execute_s = 0.0
    for r in results:
        for t in r.get("timing", []):
            if t.get("started_at") and t.get("completed_at"):
                span = seconds(t["started_at"], t["completed_at"])
                if t["name"] == "compile":
                    compile_s += span
                else:
                    execute_s += span
    return len(results), compile_s, execute_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["parse", "compile", "build", "run"])
    parser.add_argument("--models", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warehouse", choices=["duckdb", "postgres"], default="duckdb",
                        help="where build and run write (parse and compile do not connect)")
    args = parser.parse_args()

    binary = build_hangar()
    project = project_for(args.models)
    postgres = Postgres() if args.warehouse == "postgres" else None
    profiles = postgres.profiles_dir(project) if postgres else None
    try:
        walls, peaks = measure(args, binary, project, postgres, profiles)
    finally:
        if postgres:
            postgres.drop()
    print(
        f"hangar {args.command} on {args.warehouse}, {args.models} models, {args.runs} runs: "
        f"median {statistics.median(walls):.3f}s (min {min(walls):.3f}, max {max(walls):.3f}), "
        f"peak memory {max(peaks):.0f} MB"
    )


def measure(args, binary: Path, project: Path, postgres: "Postgres | None",
            profiles: Path | None) -> tuple[list[float], list[float]]:
    """Runs the command `args.runs` times, each build or run on an empty warehouse."""
    walls, peaks = [], []
    for i in range(args.runs):
        if args.command in ("build", "run"):
            if postgres:
                postgres.recreate()
            db = project / "target"
            for f in db.glob("*.duckdb*"):
                f.unlink()
        warm_page_cache(project)
        wall, peak, last = run_once(binary, args.command, project, profiles)
        walls.append(wall)
        peaks.append(peak)
        print(f"run {i + 1}: {wall:.3f}s, peak {peak:.0f} MB  ({last})")
        if args.command in ("build", "run"):
            nodes, compile_s, execute_s = run_split(project)
            print(
                f"    {nodes} nodes: {execute_s:.2f}s inside the database and {compile_s:.2f}s rendering, "
                f"summed over threads; wall minus database time per thread-node: "
                f"{(wall - execute_s / THREADS) / max(nodes, 1) * 1000:.2f} ms"
            )
    return walls, peaks


if __name__ == "__main__":
    main()
