"""Cold start to the first inbox rows on screen, against a bare Textual app.

Each run starts a process in a real pseudo-terminal (120x36, TERM=xterm-256color),
reads what it draws and stops the clock when the marker appears: ``BARE-READY`` for
the floor, the first case id (``LD-``) for ``linkdesk demo``. Runs are interleaved
so that both see the same machine. The demo desk is prepared (and its local desk
service started) before timing: "on an existing demo desk". One more series stops
the desk service before each run (a cold desk) for reference.

    python benchmarks/startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
LINKDESK = [PYTHON, "-m", "linkdesk"]


def first_paint(command: list[str], marker: bytes, env: dict[str, str], timeout: float = 60.0) -> float:
    """Seconds from spawning ``command`` in a pty until ``marker`` is written."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 36, 120, 0, 0))
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True, close_fds=True
    )
    os.close(slave)
    seen = b""
    try:
        while True:
            remaining = timeout - (time.perf_counter() - started)
            if remaining <= 0:
                raise TimeoutError(f"{command} never showed {marker!r}; last output: {seen[-400:]!r}")
            ready, _, _ = select.select([master], [], [], remaining)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise RuntimeError(f"{command} exited before showing {marker!r}: {seen[-400:]!r}")
                seen = (seen + chunk)[-8192:]
                if marker in seen:
                    return time.perf_counter() - started
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        process.wait(timeout=10)
        os.close(master)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="linkdesk-bench-"))
    env = dict(os.environ, TERM="xterm-256color", COLORTERM="truecolor", LINKDESK_DATA_DIR=str(data_dir),
               LINKDESK_CONFIG_DIR=str(data_dir / "config"), LANG="C.UTF-8")
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # a user's machine keeps compiled modules
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(HERE.parent / "src")], check=True)
    # prepare the demo desk and start its service (the state "on an existing demo desk")
    subprocess.run(LINKDESK + ["--demo", "cases", "list", "--limit", "1"], env=env, check=True,
                   stdout=subprocess.DEVNULL)

    bare, warm, cold = [], [], []
    for _ in range(args.runs):
        bare.append(first_paint([PYTHON, str(HERE / "bare_app.py")], b"BARE-READY", env))
        warm.append(first_paint(LINKDESK + ["demo"], b"LD-", env))
    for _ in range(max(3, args.runs // 2)):
        subprocess.run(LINKDESK + ["--demo", "desk", "stop"], env=env, check=True, stdout=subprocess.DEVNULL)
        cold.append(first_paint(LINKDESK + ["demo"], b"LD-", env))
    subprocess.run(LINKDESK + ["--demo", "desk", "stop"], env=env, stdout=subprocess.DEVNULL)
    shutil.rmtree(data_dir, ignore_errors=True)

    figures = {
        "runs": args.runs,
        "bare_median_s": statistics.median(bare),
        "demo_warm_median_s": statistics.median(warm),
        "demo_cold_service_median_s": statistics.median(cold),
        "bare_all_s": bare,
        "demo_warm_all_s": warm,
        "demo_cold_service_all_s": cold,
    }
    figures["ratio_warm"] = figures["demo_warm_median_s"] / figures["bare_median_s"]
    figures["ratio_cold_service"] = figures["demo_cold_service_median_s"] / figures["bare_median_s"]
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
