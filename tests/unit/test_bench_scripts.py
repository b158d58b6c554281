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
    workers = result["allCores"]["workers"]
    assert workers >= 1
    assert set(result["allCores"]["scenarios"]) == {
        f"baseline, {workers} workers",
        f"dossier GET, warm cache, {workers} workers",
        f"decision list, first page of 100, {workers} workers",
        f"decision list, page at depth 300, {workers} workers",
    }
    assert all(figures["requests"] > 0 for figures in result["scenarios"].values())
    assert all(figures["requests"] > 0 for figures in result["allCores"]["scenarios"].values())
    assert "| baseline |" in stdout
    assert f"| baseline, {workers} workers |" in stdout


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


def test_seed_scale_builds_a_database_whose_audit_log_verifies(repo_root: Path, tmp_path: Path) -> None:
    """A tiny scale database (200 dossiers): built with its 4,000 keyed audit records, which verify; reused the
    second time."""
    command = [sys.executable, "bench/seed_scale.py", "--dossiers", "200", "--root", str(tmp_path / "scale")]
    command += ["--verify", "--output", str(tmp_path / "seed.json")]
    built = subprocess.run(command, cwd=repo_root, capture_output=True, text=True, check=False, timeout=180)
    assert built.returncode == 0, built.stderr[-3000:]
    result = json.loads((tmp_path / "seed.json").read_text())
    assert (result["dossiers"], result["audit_records"], result["feed_events"]) == (200, 4000, 200)
    assert result["page"] == 50
    assert "audit log intact, 4000 records verified" in built.stdout
    again = subprocess.run(command, cwd=repo_root, capture_output=True, text=True, check=False, timeout=180)
    assert again.returncode == 0, again.stderr[-3000:]
    assert json.loads((tmp_path / "seed.json").read_text())["reused"] is True


def test_data_growth_bench_parses_its_arguments(repo_root: Path) -> None:
    """The two-size run takes minutes and gigabytes: only its command line is checked here."""
    helped = subprocess.run(
        [sys.executable, "bench/data_growth.py", "--help"], cwd=repo_root, capture_output=True, text=True, timeout=60
    )
    assert helped.returncode == 0, helped.stderr[-3000:]
    assert "--sizes" in helped.stdout
    refused = subprocess.run(
        [sys.executable, "bench/data_growth.py", "--sizes", "10,100"],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2
    assert "at least 200 dossiers" in refused.stderr
