"""scripts/device_check.sh exits non-zero when a section fails (and 0 when all pass), with the
failed sections named in its table; run with a stand-in Python so nothing heavy runs."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("fail_on", "code"), [("", 0), ("-m", 1), ("scripts/bench_train.py", 1), ("-", 1)])
def test_device_check_exit_code_says_whether_every_section_passed(tmp_path: Path, fail_on: str, code: int) -> None:
    stub = tmp_path / "python"
    stub.write_text(f'#!/usr/bin/env bash\n[ -n "{fail_on}" ] && [ "$1" = "{fail_on}" ] && exit 3\necho "| ok |"; exit 0\n')
    stub.chmod(0o755)
    proc = subprocess.run(["bash", str(REPO / "scripts" / "device_check.sh"), "--device", "cpu"], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHON": str(stub)})
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert ("FAILED sections:" in proc.stdout) == bool(code), proc.stdout
