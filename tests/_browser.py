"""A real headless browser for the HTML report tests: Debian's chromium, driven by its own command line.

No Playwright and no browser download: `--dump-dom` gives the DOM after the page's script ran, `--screenshot` a PNG,
and `--enable-logging=stderr` writes every console message (errors, uncaught exceptions, CSP violations) to stderr as
a ``CONSOLE`` line. CI installs chromium (scripts/install-browser.sh); where it is missing the tests skip, unless
``OTEL_AGENT_BROWSER_REQUIRE=1`` (set by .ci/run) makes that a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
)


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("OTEL_AGENT_BROWSER_REQUIRE") == "1":
            pytest.fail("chromium is required (OTEL_AGENT_BROWSER_REQUIRE=1): run scripts/install-browser.sh")
        pytest.skip("chromium is not installed (scripts/install-browser.sh installs it)")
    return found


@dataclass(frozen=True)
class Loaded:
    dom: str
    console: list[str]  # every console message the page logged


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="otel-agent-chromium-") as profile:
        return subprocess.run(
            [chromium(), *_FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def _console(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def dump_dom(url: str, timeout: float = 120) -> Loaded:
    done = _run(["--dump-dom", url], timeout)
    assert done.returncode == 0, done.stderr[-2000:]
    return Loaded(dom=done.stdout, console=_console(done.stderr))


def screenshot(url: str, target: Path, size: str = "1400,1800", timeout: float = 120) -> list[str]:
    done = _run([f"--screenshot={target}", f"--window-size={size}", url], timeout)
    assert done.returncode == 0 and target.is_file(), done.stderr[-2000:]
    return _console(done.stderr)
