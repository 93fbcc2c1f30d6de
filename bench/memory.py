"""Peak memory of the app server after a browser visits every page on every shipped model.

The server's peak RSS (VmHWM, summed over it and any child processes) after Chromium has shown every
page on every shipped model and drawn one digit on each model's anomaly lab, against the peak RSS
of a bare `python -c "import torch, torchvision, streamlit"` on the same machine. The difference is
the app's share: models, test sets, cached scores, Streamlit sessions. Target: app share <= 250 MB.

    python -m bench.memory
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from bench.browser import (
    PAGES,
    SLOW_MS,
    VIEWPORT,
    draw_and_await_verdict,
    install_reaction_timer,
    launch_chromium,
    streamlit_server,
    visit,
    wait_loaded,
)
from bench.common import REPO, data_root, load_average, print_table
from ui.models import shipped_names

BARE_IMPORTS = "import torch, torchvision, streamlit"
TARGET_MB = 250


def peak_rss_mb(status: str) -> float:
    """VmHWM (peak resident set) from the text of /proc/<pid>/status, in MB."""
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()  # after "pid (command)"
        except OSError:  # it ended meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants."""
    tree = [pid]
    for child in children(pid):
        tree += process_tree(child)
    return tree


def server_pid() -> int:
    """The `streamlit run` process this bench started (a child of this process)."""
    for pid in children(os.getpid()):
        if b"streamlit" in Path(f"/proc/{pid}/cmdline").read_bytes():
            return pid
    raise RuntimeError("no streamlit child process")


def bare_import_peak_mb() -> float:
    """Peak RSS of a Python that only imports torch, torchvision and streamlit."""
    script = f"{BARE_IMPORTS}; print(open('/proc/self/status').read())"
    status = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    return peak_rss_mb(status)


def server_peak_mb() -> tuple[float, int]:
    """(Peak RSS of the streamlit server and its children, summed; how many processes that is)."""
    tree = process_tree(server_pid())
    return sum(peak_rss_mb(Path(f"/proc/{pid}/status").read_text()) for pid in tree), len(tree)


def visit_everything(page: Page) -> None:
    """Every page on every shipped model, and one drawing on each model's anomaly lab."""
    for variant, model in enumerate(shipped_names()):
        for link in PAGES:
            visit(page, model, link)
        draw_and_await_verdict(page, variant)  # the walk ends on the anomaly lab


def main() -> None:
    load_before = load_average()
    bare_mb = bare_import_peak_mb()
    env = {"VAE_DATA_DIR": str(data_root())}
    with streamlit_server(REPO / "artifacts" / "memory.log", env) as (url, _), sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        context = browser.new_context(viewport=VIEWPORT)
        install_reaction_timer(context)
        page = context.new_page()
        page.set_default_timeout(SLOW_MS)
        page.goto(url)
        wait_loaded(page)
        home_mb, _ = server_peak_mb()
        visit_everything(page)
        app_mb, processes = server_peak_mb()
        browser.close()
    print(f"{load_before} before, {load_average()} after; server processes: {processes}\n")
    rows = [
        [f"bare `python -c '{BARE_IMPORTS}'`", f"{bare_mb:.0f}", ""],
        ["app server after the home page (first model loaded)", f"{home_mb:.0f}", ""],
        [f"app server after every page × {len(shipped_names())} models + drawings", f"{app_mb:.0f}", ""],
        ["app share (difference)", f"{app_mb - bare_mb:.0f}", f"<= {TARGET_MB}"],
    ]
    print_table(["process", "peak RSS (MB)", "target (MB)"], rows)


if __name__ == "__main__":
    main()
