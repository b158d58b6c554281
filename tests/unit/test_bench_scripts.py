"""The benchmark scripts keep running (their figures are read by people, not asserted here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_token_verification_bench_runs(repo_root: Path, tmp_path: Path) -> None:
    output = tmp_path / "result.json"
    completed = subprocess.run(
        [sys.executable, "bench/token_verification.py", "--rounds", "1", "--batch", "20", "--output", str(output)],
        cwd=repo_root,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode in (0, 1), completed.stderr  # 1 means a target was missed, not a crash
    result = json.loads(output.read_text())
    assert set(result["ratios"]) == {"raw", "naive", "first sight", "reuse"}
    assert result["ratios"]["raw"] == 1.0


def test_cold_decision_bench_runs(repo_root: Path, tmp_path: Path) -> None:
    output = tmp_path / "cold.json"
    completed = subprocess.run(
        [
            sys.executable,
            "bench/cold_decision.py",
            "--persons",
            "2",
            "--latency-ms",
            "5",
            "--output",
            str(output),
        ],
        cwd=repo_root,
        capture_output=True,
        text=True,
        check=False,
        timeout=180,
    )
    assert completed.returncode in (0, 1), completed.stderr[-2000:]
    result = json.loads(output.read_text())
    assert {"insurer", "regionalService", "preventionService", "concurrent50"} <= set(result)


def test_decision_list_bench_runs(repo_root: Path, tmp_path: Path) -> None:
    output = tmp_path / "list.json"
    completed = subprocess.run(
        [sys.executable, "bench/decision_list.py", "--rows", "300", "--rounds", "1", "--output", str(output)],
        cwd=repo_root,
        capture_output=True,
        text=True,
        check=False,
        timeout=180,
    )
    assert completed.returncode in (0, 1), completed.stderr[-2000:]
    result = json.loads(output.read_text())
    assert set(result["ms"]) == {"without audit", "with audit", "deep, with audit"}


def test_http_load_bench_runs(repo_root: Path, tmp_path: Path) -> None:
    """The one-command HTTP benchmark, end to end and briefly: it installs wrk when the machine lacks it."""
    output = tmp_path / "http.json"
    completed = subprocess.run(
        [
            sys.executable,
            "bench/http_load.py",
            "--duration",
            "1",
            "--connections",
            "4",
            "--persons",
            "3",
            "--rows",
            "300",
            "--no-micro",
            "--output",
            str(output),
        ],
        cwd=repo_root,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert completed.returncode in (0, 1), completed.stderr[-3000:]
    result = json.loads(output.read_text())
    assert set(result["scenarios"]) == {
        "baseline",
        "dossier GET, warm cache",
        "dossier GET, cold cache, 50 ms sources",
        "decision list, first page of 100",
        "decision list, page at depth 300",
    }
    assert all(figures["requests"] > 0 for figures in result["scenarios"].values())
    assert "| baseline |" in completed.stdout
