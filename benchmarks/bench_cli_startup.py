"""CLI start-up: how long a command takes from the shell, against baselines measured in
the same run.

    python -c pass                               baseline A (the interpreter)
    python -c "import cryptography.x509"         baseline B (the least a certificate read needs)
    mynaterm --help                              goal: <= 4x A
    mynaterm --card FILE cert read auth --json   goal: <= 3x B

Each is run N times (default 9) as a fresh process, the four taking turns; the median
is reported. The first, unmeasured round also writes the bytecode cache, as an
install does. The card
file is made once, before timing (a test PKI and a software card in a temporary
directory). Exit 1 when a goal is missed, so the numbers can gate a release; they are
never a timed test.

    .venv/bin/python benchmarks/bench_cli_startup.py [--runs 9]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def medians(rows: list[tuple[str, list[str]]], runs: int, env: dict[str, str]) -> dict[str, float]:
    """Median wall time of each command. The commands take turns (one round runs each
    once), so that load from other processes falls on all of them alike."""
    times: dict[str, list[float]] = {name: [] for name, _ in rows}
    for _ in range(runs):
        for name, argv in rows:
            started = time.perf_counter()
            done = subprocess.run(argv, capture_output=True, env=env, check=False)
            times[name].append(time.perf_counter() - started)
            if done.returncode != 0:
                error = done.stderr.decode(errors="replace")[-500:]
                raise SystemExit(f"{argv} failed: {error}")
    return {name: statistics.median(values) for name, values in times.items()}


def mynaterm_command() -> list[str]:
    """`python -m terminal.cli`: the code path of the `mynaterm` script
    (terminal.cli.toplevel_help:entry) for whichever checkout is on the path; an
    installed script may point at an older entry point until it is reinstalled."""
    return [sys.executable, "-m", "terminal.cli"]


def make_card(directory: Path) -> Path:
    from simulators.card import SoftwareCard
    from simulators.personas import get_persona
    from simulators.pki import TestPki

    pki = TestPki.open_or_create(directory / "pki")
    card = directory / "taro.card"
    SoftwareCard.create(get_persona("yamada-taro"), pki).save(card)
    return card


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        card = make_card(home)
        env = {**os.environ, "MYNATERM_HOME": str(home)}
        cli = mynaterm_command()
        rows = [
            ("python -c pass", [sys.executable, "-c", "pass"]),
            (
                "python -c 'import cryptography.x509'",
                [sys.executable, "-c", "import cryptography.x509"],
            ),
            ("mynaterm --help", [*cli, "--help"]),
            (
                "mynaterm --card FILE cert read auth",
                [*cli, "--card", str(card), "cert", "read", "auth", "--json"],
            ),
        ]
        # Warm the file cache once so that the first measured run is not the odd one,
        # and let that run write the bytecode cache (__pycache__, git-ignored) even
        # under PYTHONDONTWRITEBYTECODE: an installed mynaterm has its bytecode
        # compiled at install time, and a checkout run with that variable would
        # otherwise compile every module on every run (about 35 ms of a card read).
        warm_env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
        for _, argv in rows:
            subprocess.run(argv, capture_output=True, env=warm_env, check=False)
        results = medians(rows, args.runs, env)
    base_a = results["python -c pass"]
    base_b = results["python -c 'import cryptography.x509'"]
    help_ratio = results["mynaterm --help"] / base_a
    read_ratio = results["mynaterm --card FILE cert read auth"] / base_b
    print(f"CLI start-up, median of {args.runs} runs each (same run, same machine)")
    for name, seconds in results.items():
        print(f"  {name:<40} {seconds * 1000:8.1f} ms")
    print(f"  --help / python -c pass                   {help_ratio:5.2f}x  (goal <= 4x)")
    print(f"  cert read / import cryptography.x509      {read_ratio:5.2f}x  (goal <= 3x)")
    ok = help_ratio <= 4 and read_ratio <= 3
    print("goals met" if ok else "GOAL MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
