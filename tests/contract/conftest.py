"""Options and reporting of the contract tests.

``--fuzz`` (or ``CONTRACT_FUZZ=1``): a long randomised campaign instead of ``make test``'s fixed,
derandomised run. The seed is ``--hypothesis-seed`` when given, else a random one; it seeds
schemathesis (``schemathesis.toml``'s ``seed``) and Hypothesis alike, so the command printed
after a failure replays the same run. At the end of every session that ran contract tests, a
table says how many cases each operation got in each suite.

The schemathesis and Hypothesis campaigns (``CAMPAIGNS``) are marked ``slow``: ``make test`` runs
them, ``make test-fast`` does not.
"""

from __future__ import annotations

import os

import hypothesis.core
import pytest

from . import harness

SUITES = [
    ("server/asgi", "asgi"),
    ("server/asgi stateful", "asgi:sf"),
    ("server/live", "live"),
    ("server/live stateful", "live:sf"),
    ("client (sync+async)", "client"),
    ("recordings (replayed)", "replay"),
]


# Modules whose every test is a generated campaign (and, for the server, a live process too).
CAMPAIGNS = frozenset({"test_server_contract.py", "test_client_contract.py", "test_models_contract.py"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name in CAMPAIGNS and item.path.parent.name == "contract":
            item.add_marker(pytest.mark.slow)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fuzz",
        action="store_true",
        default=False,
        help="contract tests: long randomised campaign (random seed unless --hypothesis-seed is given)",
    )


def pytest_configure(config: pytest.Config) -> None:
    fuzz = bool(config.getoption("fuzz", default=False)) or os.environ.get("CONTRACT_FUZZ") == "1"
    given = config.getoption("hypothesis_seed", default=None)
    harness.configure(fuzz=fuzz, seed=int(given) if given is not None else None)
    if fuzz and given is None:
        # What --hypothesis-seed would have done, so that printing it replays this very run.
        hypothesis.core.global_force_seed = harness.RUN.seed


def replay_command() -> str:
    if harness.RUN.fuzz:
        return f"make fuzz PYTEST_ARGS='--hypothesis-seed={harness.RUN.seed}'"
    return ".venv/bin/pytest tests/contract  # fixed seed, derandomised: every run is this run"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int) -> None:
    run = harness.RUN
    if not run.counts:
        return
    write = terminalreporter.write_line
    mode = "fuzzing" if run.fuzz else "fixed, derandomised"
    terminalreporter.section(f"contract tests: cases per operation ({mode}, seed {run.seed})")
    operations = sorted({op for suite, _ in SUITES for op in run.counts.get(suite, {})}, key=lambda o: o.split()[::-1])
    width = max([len(op) for op in operations] + [9])
    write(f"{'operation':<{width}} " + " ".join(f"{short:>7}" for _, short in SUITES))
    for operation in operations:
        cells = " ".join(f"{run.counts.get(suite, {}).get(operation, 0):>7}" for suite, _ in SUITES)
        write(f"{operation:<{width}} {cells}")
    totals = " ".join(f"{sum(run.counts.get(suite, {}).values()):>7}" for suite, _ in SUITES)
    write(f"{'total':<{width}} {totals}")
    models = run.counts.get("models", {})
    if models:
        write(f"models: {sum(models.values())} drawn values round-tripped over {len(models)} schemas")
    failed = terminalreporter.stats.get("failed", []) + terminalreporter.stats.get("error", [])
    if any("tests/contract/" in report.nodeid for report in failed):
        write(f"contract tests failed; replay this run with: {replay_command()}", red=True, bold=True)
