"""How fast a large alumni file imports into the directory through the CLI, against the bare
ceiling measured in the same run, and how much memory a very large file takes; and how fast a
student's LinkedIn connections import into their contacts, against the directory's import of
the same file, while another student writes.

Run it from the project root:

    .venv/bin/python bench/imports.py                         # 100,000 rows on SQLite
    .venv/bin/python bench/imports.py --rows 1000000          # and the peak memory figure
    .venv/bin/python bench/imports.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

What it does:

1. Writes a realistic alumni export with the career office's generator
   (``tests/data/samples/make_alumni_csv.py ROWS``: a BOM, the office's column names, about 2%
   problem rows).
2. The bare ceiling: Python's csv module reading that file and sqlite3 ``executemany`` into one
   table with no validation, no index and no search (the best any importer could do here).
3. ``rapport import FILE --target directory --user staff`` as a subprocess on a freshly migrated
   database: encoding and format detection, header mapping, every row checked, matched by
   external id and email, inserted or updated in batches with its progress, and the full-text
   index. The figure is the import's own rows per second (the CLI prints it; Python's start-up
   is left out, as it is for the ceiling), and the wall time of the whole command.
4. The peak memory: of the largest process (maximum resident set size), and of the import
   and the child process that reads the file for it, together (their proportional set sizes,
   sampled every 20 ms in one more first import, which is not timed: sampling slows it).
5. Runs the same import a second time: every row is found unchanged.

Steps 2 and 3 run ``--runs`` times (3), alternately, each import on a new database; the
medians are reported, with every run's figure.

Then, for a student (``--only contacts`` runs this part alone): a 20,000-row LinkedIn
``Connections.csv`` (``--contact-rows``), imported on a new database each run into the directory
(for the comparison) and into a student's contacts; then the same file again (every row
unchanged); then once more on a new database while another student adds a contact every 20 ms
in a thread of this process, each of those writes timed, waiting included.

It never fails on time: it prints the figures and the targets (at least 25% of the ceiling on
SQLite; under 250 MB for a million rows; a student's import at 10,000 rows/s on SQLite and at
least half the directory's rate, another student's writes waiting no more than 250 ms) and
exits 0.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GENERATOR = ROOT / "tests" / "data" / "samples" / "make_alumni_csv.py"
RAPPORT = Path(sys.executable).parent / "rapport"


def make_file(rows: int, folder: Path) -> Path:
    path = folder / f"alumni-{rows}.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        subprocess.run([sys.executable, str(GENERATOR), str(rows)], stdout=out,
                       stderr=subprocess.DEVNULL, check=True)
    return path


def ceiling(path: Path, folder: Path) -> float:
    """Rows per second: csv reading and sqlite3 executemany into a plain table."""
    for name in ("ceiling.db", "ceiling.db-wal", "ceiling.db-shm"):
        (folder / name).unlink(missing_ok=True)
    db = sqlite3.connect(folder / "ceiling.db")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE alumni (" + ", ".join(f"c{i}" for i in range(15)) + ")")
    started = time.perf_counter()
    with path.open(encoding="utf-8-sig", newline="") as file:
        rows = csv.reader(file)
        next(rows)
        db.executemany("INSERT INTO alumni VALUES (" + ", ".join("?" * 15) + ")", rows)
    db.commit()
    elapsed = time.perf_counter() - started
    count = db.execute("SELECT count(*) FROM alumni").fetchone()[0]
    db.close()
    return float(count / elapsed)


def prepare(url: str) -> dict[str, str]:
    env = {**os.environ, "RAPPORT_ENV": "development", "RAPPORT_DATABASE_URL": url}
    if url.startswith("postgresql"):
        if url.rsplit("/", 1)[-1] == "test":
            sys.exit("Refusing the database named test: the test suite owns it.")
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    subprocess.run([str(RAPPORT), "migrate"], env=env, check=True, capture_output=True)
    subprocess.run([str(RAPPORT), "users", "create", "--email", "staff@bench.example",
                    "--name", "Bench Staff", "--role", "staff", "--password-stdin"],
                   env=env, input="bench-password-123", text=True, check=True, capture_output=True)
    return env


def tree_pss_kb(pid: int) -> int:
    """Memory of a process and its children (the import's reader), in kilobytes: the
    proportional set size, in which a page the two share (the reader is a fork) counts once."""
    total = 0
    for each in [pid, *_children(pid)]:
        try:
            with open(f"/proc/{each}/smaps_rollup") as status:
                total += next(int(line.split()[1]) for line in status
                              if line.startswith("Pss:"))
        except (OSError, StopIteration):
            pass
    return total


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as file:
            return [int(c) for c in file.read().split()]
    except OSError:
        return []


def run_import(path: Path, env: dict[str, str],
               memory: bool = False) -> tuple[float, float, float, float, str]:
    """Rows/s as the import reports it, wall seconds, the peak memory of the largest process
    and, when ``memory`` (sampling slows the import down), of all of them together (MB), and
    the report."""
    started = time.perf_counter()
    process = subprocess.Popen([str(RAPPORT), "import", str(path), "--target", "directory",
                                "--user", "staff@bench.example"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    together = 0
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if memory:
            together = max(together, tree_pss_kb(process.pid))
        time.sleep(0.02)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.stdout is not None
    report = " ".join(process.stdout.read().split())
    if process.returncode:
        sys.exit(f"the import failed: {report}")
    # The largest of the import and the reader it waited for (kilobytes).
    largest = usage.ru_maxrss
    rate = re.search(r"\(([\d,]+) rows/s\)", report)
    return (float(rate.group(1).replace(",", "")) if rate else 0.0, wall, largest / 1024,
            together / 1024, report.split(". Import")[0])


# --- a student's LinkedIn connections into their contacts ---------------------------------

FIRST = ["Maya", "Sam", "Alex", "Priya", "Wei", "José", "Chloé", "Ben", "Ana", "Kim", "Omar",
         "Lena", "Ravi", "Sofia", "Tomás", "Zoë", "Grace", "Marcus", "Laura", "Jon"]
LAST = ["Okafor", "Rivera", "Chen", "Patel", "Zhang", "Martínez", "Dubois", "Søndergaard", "Lima",
        "Lee", "Haddad", "Novak", "Iyer", "Rossi", "García", "Feldman", "Jones", "Oyelaran"]
COMPANIES = ["Medtronic", "Mayo Clinic", "3M", "Target", "Best Buy", "General Mills", "Cargill",
             "Ecolab", "Deloitte", "Accenture", *(f"Startup {n}" for n in range(400))]
POSITIONS = ["Engineer", "Product Manager", "Analyst", "Nurse Practitioner", "Data Scientist",
             "Recruiter", "Consultant, Strategy", "Physician Assistant", "UX Researcher"]


def make_connections(rows: int, folder: Path) -> Path:
    """A LinkedIn Connections.csv as LinkedIn writes it: its notes, then a connection a row
    (about a third with an email address, as LinkedIn gives them)."""
    import random

    rng = random.Random(7)  # noqa: S311 - made-up people, the same each run
    path = folder / f"Connections-{rows}.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write('Notes:\n"When exporting your connection data, you may notice that some of the '
                  'email addresses are missing."\n\n')
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["First Name", "Last Name", "URL", "Email Address", "Company", "Position",
                         "Connected On"])
        for n in range(rows):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            slug = f"{first}-{last}-{n}".lower()
            writer.writerow([first, last, f"https://www.linkedin.com/in/{slug}",
                             f"{slug}@example.com" if rng.random() < 0.33 else "",
                             rng.choice(COMPANIES), rng.choice(POSITIONS),
                             f"{rng.randint(1, 28):02d} {rng.choice(['Jan', 'Feb', 'Mar'])} 2025"])
    return path


def cli_import(path: Path, env: dict[str, str], target: str, user: str) -> tuple[float, str]:
    """Rows/s as ``rapport import`` reports it, and its report."""
    done = subprocess.run([str(RAPPORT), "import", str(path), "--target", target, "--user", user],
                          env=env, capture_output=True, text=True)
    report = " ".join(done.stdout.split())
    if done.returncode:
        sys.exit(f"the import failed: {report} {done.stderr[-2000:]}")
    rate = re.search(r"\(([\d,]+) rows/s\)", report)
    return float(rate.group(1).replace(",", "")) if rate else 0.0, report.split(". Import")[0]


def other_student_writes(url: str, stop: threading.Event, waits: list[float]) -> None:
    """Another student adds a contact every 20 ms, each in its own transaction, as the app does:
    how long each write takes, waiting included."""
    os.environ.setdefault("RAPPORT_ENV", "development")
    from sqlalchemy import select

    from app.contacts.schemas import ContactIn
    from app.contacts.service import create_contact
    from app.db import make_engine, make_sessionmaker
    from app.models import User

    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    with sessions() as db:
        other = db.scalar(select(User).where(User.email == "other@bench.example"))
    n = 0
    while not stop.is_set():
        started = time.perf_counter()
        with sessions() as db:
            create_contact(db, other, ContactIn(first_name=f"Friend {n}", organization_name="Acme"))
            db.commit()
        waits.append(time.perf_counter() - started)
        n += 1
        time.sleep(0.02)
    engine.dispose()


def contacts_runs(args: argparse.Namespace, folder: Path) -> None:
    path = make_connections(args.contact_rows, folder)
    database = "PostgreSQL" if (args.database_url or "").startswith("postgresql") else "SQLite"

    def fresh(run: str) -> tuple[str, dict[str, str]]:
        url = args.database_url or f"sqlite:///{folder}/contacts-{run}.db"
        env = prepare(url)
        for email in ("student@bench.example", "other@bench.example"):
            subprocess.run([str(RAPPORT), "users", "create", "--email", email, "--name", "Student",
                            "--password-stdin"], env=env, input="bench-password-123", text=True,
                           check=True, capture_output=True)
        return url, env

    directory_rates, rates, reports = [], [], []
    for run in range(args.runs):  # alone, as on an idle machine
        url, env = fresh(str(run))
        directory_rates.append(cli_import(path, env, "directory", "staff@bench.example")[0])
        rate, report = cli_import(path, env, "contacts", "student@bench.example")
        rates.append(rate)
        reports.append(report)
    again = cli_import(path, env, "contacts", "student@bench.example")
    # Once more, while another student writes.
    url, env = fresh("shared")
    stop, waits = threading.Event(), []
    writer = threading.Thread(target=other_student_writes, args=(url, stop, waits))
    writer.start()
    time.sleep(0.5)  # the other student is writing before the import starts
    shared = cli_import(path, env, "contacts", "student@bench.example")
    stop.set()
    writer.join()
    rate, directory = statistics.median(rates), statistics.median(directory_rates)
    waits.sort()
    print(f"{args.contact_rows:,} LinkedIn connections into a student's contacts on {database}, "
          f"median of {args.runs} runs")
    print(f"  contacts import: {rate:,.0f} rows/s (target 10,000 on SQLite; runs: "
          f"{', '.join(f'{r:,.0f}' for r in rates)})")
    print(f"  directory import of the same file: {directory:,.0f} rows/s (runs: "
          f"{', '.join(f'{r:,.0f}' for r in directory_rates)}); the contacts import runs at "
          f"{rate / directory:.0%} of it (target: at least 50%)")
    print(f"    {reports[0]}")
    print(f"  again, unchanged: {again[0]:,.0f} rows/s")
    print(f"  while another student adds a contact every 20 ms: the import at {shared[0]:,.0f} "
          f"rows/s; their {len(waits):,} writes took: median {statistics.median(waits) * 1000:.0f} "
          f"ms, p99 {waits[int(len(waits) * 0.99)] * 1000:.0f} ms, longest "
          f"{waits[-1] * 1000:.0f} ms (target: no write waits more than 250 ms)")


def directory_runs(args: argparse.Namespace, folder: Path) -> None:
    path = make_file(args.rows, folder)
    size = path.stat().st_size / 1e6
    database = "PostgreSQL" if (args.database_url or "").startswith("postgresql") else "SQLite"
    ceilings, runs = [], []
    for run in range(args.runs):  # alternately, so that both see the same machine
        ceilings.append(ceiling(path, folder))
        url = args.database_url or f"sqlite:///{folder}/rapport-{run}.db"
        env = prepare(url)
        runs.append(run_import(path, env))
    again = run_import(path, env)
    sampled = run_import(path, prepare(args.database_url or f"sqlite:///{folder}/memory.db"),
                         memory=True)
    bare = statistics.median(ceilings)
    rate = statistics.median(r[0] for r in runs)
    first = min(runs, key=lambda r: abs(r[0] - rate))
    print(f"{args.rows:,} rows ({size:.1f} MB), directory import on {database}, "
          f"median of {args.runs} runs")
    print(f"  bare ceiling (csv + sqlite3 executemany, no checks): {bare:,.0f} rows/s "
          f"(runs: {', '.join(f'{c:,.0f}' for c in ceilings)})")
    print(f"  rapport import:  {rate:,.0f} rows/s = {rate / bare:.1%} of the ceiling (target "
          f"25%; runs: {', '.join(f'{r[0]:,.0f}' for r in runs)}), {first[1]:.1f} s wall for "
          "the whole command")
    print(f"    {first[4]}")
    print(f"  again, unchanged: {again[0]:,.0f} rows/s, {again[1]:.1f} s wall")
    print(f"    {again[4]}")
    print(f"  peak memory: {max(r[2] for r in (*runs, again, sampled)):,.0f} MB for the largest "
          f"process; {sampled[3]:,.0f} MB for the import and its reader together, in one more "
          "(untimed) first import (target for 1,000,000 rows: under 250 MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--contact-rows", type=int, default=20_000)
    parser.add_argument("--only", choices=["directory", "contacts"], default=None)
    parser.add_argument("--runs", type=int, default=3,
                        help="fresh imports (and ceilings) measured; the median is reported")
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        if args.only != "contacts":
            directory_runs(args, Path(tmp))
        if args.only != "directory":
            contacts_runs(args, Path(tmp))


if __name__ == "__main__":
    main()
