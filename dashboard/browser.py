"""Driving the served dashboard in a real browser: shared by its browser test
(``tests/dashboard/test_browser.py``) and its benchmark (``bench/bench_dashboard.py``).

Debian's chromium through Playwright (never a downloaded browser); the dashboard is served by
the caller's ``streamlit run`` command (``etl.cli.dashboard_command``) on a free loopback port.
Nothing here is imported by the app itself.
"""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# url path -> the page's title (dashboard/app.py's PAGES).
# The default page is served at "/" (its url path gives "Page not found").
PAGE_TITLES = {
    "": "Overview",
    "now": "Now",
    "services": "Services and teams",
    "responders": "Responders",
    "noise": "Noise and recommendations",
    "alert-groups": "Alert groups",
    "impact": "Business impact",
    "reports": "Reports",
    "data": "Data",
}
VIEWPORT = {"width": 1440, "height": 1000}

# True once the script run has finished, nothing is loading or stale, the page's title is
# shown and every chart has drawn.
RENDERED_JS = """(title) => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    const busy = '[data-testid="stSkeleton"], [data-testid="stSkeletonElement"], '
        + '[data-testid="stAppSkeleton"], [data-stale="true"]';
    if (document.querySelector(busy)) return false;
    const headings = [...document.querySelectorAll('h1')].map(h => h.textContent.trim());
    if (!headings.includes(title)) return false;
    return [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
        .every(c => c.querySelector('.main-svg'));
}"""


class NoRun(RuntimeError):
    """The page stayed idle after an action: no script run started (see :func:`settle`)."""


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch(playwright):
    """Debian's chromium, headless, through a started ``sync_playwright()``."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def serve(
    command: Callable[[int], list[str]],
    *,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout_s: float = 60,
    keep_output: bool = False,
) -> tuple[subprocess.Popen, str]:
    """Start ``command(port)`` on a free port and wait until Streamlit answers its health check.

    Returns the process and the dashboard's URL. When the server exits or does not answer in
    ``timeout_s``, it is killed and :class:`RuntimeError` carries the end of its output (kept
    only with ``keep_output``).
    """
    port = free_port()
    output = subprocess.PIPE if keep_output else subprocess.DEVNULL
    proc = subprocess.Popen(
        command(port), cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                return proc, url
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                text = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                raise RuntimeError(f"streamlit did not start:\n{text[-3000:]}") from None
            time.sleep(0.2)


def stop(proc: subprocess.Popen) -> None:
    """Terminate a server started by :func:`serve` (killed if it does not exit in 10 s)."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def settle(
    page,
    title: str,
    started: float,
    *,
    need_run: bool = False,
    timeout_s: float = 120,
    run_timeout_s: float | None = None,
    poll_s: float = 0.025,
    polls: int = 3,
) -> float:
    """Seconds from ``started`` until the page is drawn and stays so for ``polls`` polls.

    A page load can take two script runs (the first before navigation is known), hence the
    consecutive polls. With ``need_run``, a script run must have started since the benchmark's
    observer (``window.__runs``) was installed; :class:`NoRun` when none has after
    ``run_timeout_s`` (if given). :class:`RuntimeError` when the page is not drawn in
    ``timeout_s``.
    """
    streak_at: float | None = None
    streak = 0
    while time.monotonic() - started < timeout_s:
        done = page.evaluate(RENDERED_JS, title)
        if done and need_run:
            done = page.evaluate("() => window.__runs") > 0
            if not done and run_timeout_s and time.monotonic() - started > run_timeout_s:
                raise NoRun
        now = time.monotonic()
        if done:
            streak_at = now if streak == 0 else streak_at
            streak += 1
            if streak >= polls:
                return streak_at - started
        else:
            streak = 0
        time.sleep(poll_s)
    raise RuntimeError(f"{title!r} did not finish rendering in {timeout_s} s")
