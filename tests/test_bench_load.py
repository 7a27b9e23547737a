"""bench/load.py is not run by the suite; its quick mode is, so that it cannot rot unseen. It
always uses a SQLite file of its own, whatever database the suite runs on."""

import subprocess
import sys

from tests.conftest import ROOT


def test_the_load_benchmark_runs_its_quick_mode_and_reports_every_step() -> None:
    run = subprocess.run([sys.executable, "bench/load.py", "--quick"], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    for name in ("list", "search", "mix"):
        for concurrency in (1, 4):
            assert f"| {name:<8} | {concurrency:<11} |" in out, out
    assert "In-process" in out and "Targets" in out
    assert "no errors: 0 - met" in out, out
