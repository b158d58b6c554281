"""The benchmark scripts keep running (their figures are read by people, not asserted here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any


def run_bench(repo_root: Path, output: Path, script: str, *args: str, timeout: int = 180) -> tuple[Any, str]:
    """Run ``bench/<script>.py`` writing ``output``: its JSON result and its stdout. Exit 1 means a target was
    missed, not a crash."""
    completed = subprocess.run(
        [sys.executable, f"bench/{script}.py", *args, "--output", str(output)],
        cwd=repo_root,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    assert completed.returncode in (0, 1), completed.stderr[-3000:]
    return json.loads(output.read_text()), completed.stdout


def test_token_verification_bench_runs(repo_root: Path, tmp_path: Path) -> None:
    result, _ = run_bench(repo_root, tmp_path / "result.json", "token_verification", "--rounds", "1", "--batch", "20")
    assert set(result["ratios"]) == {"raw", "naive", "first sight", "reuse"}
    assert result["ratios"]["raw"] == 1.0


def test_cold_decision_bench_runs(repo_root: Path, tmp_path: Path) -> None:
    result, _ = run_bench(repo_root, tmp_path / "cold.json", "cold_decision", "--persons", "2", "--latency-ms", "5")
    assert {"insurer", "regionalService", "preventionService", "concurrent50"} <= set(result)


def test_decision_list_bench_runs(repo_root: Path, tmp_path: Path) -> None:
    result, _ = run_bench(repo_root, tmp_path / "list.json", "decision_list", "--rows", "300", "--rounds", "1")
    assert set(result["ms"]) == {"without either", "re-check + audit", "deep, both"}


def test_http_load_bench_runs(repo_root: Path, tmp_path: Path) -> None:
    """The one-command HTTP benchmark, end to end and briefly: it installs wrk when the machine lacks it."""
    result, stdout = run_bench(
        repo_root,
        tmp_path / "http.json",
        "http_load",
        *("--duration", "1", "--connections", "4", "--persons", "3", "--rows", "300", "--no-micro"),
        timeout=300,
    )
    assert set(result["scenarios"]) == {
        "baseline",
        "dossier GET, warm cache",
        "dossier GET, cold cache, 50 ms sources",
        "decision list, first page of 100",
        "decision list, page at depth 300",
    }
    assert all(figures["requests"] > 0 for figures in result["scenarios"].values())
    assert "| baseline |" in stdout


def test_work_list_bench_runs(repo_root: Path, tmp_path: Path) -> None:
    result, stdout = run_bench(repo_root, tmp_path / "work.json", "work_list", "--rows", "300", "--rounds", "1")
    assert set(result["ms"]) == {"without either", "re-check + audit", "deep, both"}
    assert all(ms > 0 for ms in result["ms"].values())
    assert "re-check + audit cost" in stdout


def test_feed_depth_bench_runs(repo_root: Path, tmp_path: Path) -> None:
    result, stdout = run_bench(
        repo_root, tmp_path / "feed.json", "feed_depth", "--depth", "300", "--rounds", "1", "--explain"
    )
    assert set(result["ms"]) == {"first page", "deep page", "first page, query only", "deep page, query only"}
    assert result["depth"] == 300
    assert result["events"] == 2 * (300 + 100)  # two organisations' feeds, each 100 events past the depth
    assert result["depthRatio"] > 0
    assert any("feed_event" in line for line in result["plan"])
    assert "depth cost:" in stdout
