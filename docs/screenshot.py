"""Take the dashboard's screenshot (docs/ui.png, shown on docs/ui.md) from a seeded store.

    .venv/bin/python docs/screenshot.py [OUTPUT.png]

Needs Chromium (Debian: apt-get install chromium) and Playwright (the dev extra); it
seeds a fresh store in a temporary directory with the browser tests' swarm
(``tests.support.dashboard.seed``), serves it with ``memory-lifecycle ui`` and opens
the shared plan, whose two agents disagree.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lifecycle import MemoryLifecycleManager
from tests.support.dashboard import chromium, seed, ui_server
from tests.support.env import REPO
from tests.support.server import free_port


def main(output: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "my-project"  # a project as `init` leaves it
        (project / ".git").mkdir(parents=True)
        (project / ".claude").mkdir()
        policies = project / ".claude" / "memory-retention-policies.yaml"
        shutil.copy(REPO / ".claude" / "memory-retention-policies.yaml", policies)
        memory = project / ".claude-flow" / "memory"
        with MemoryLifecycleManager(memory_dir=memory, policy_file=policies) as manager:
            seed(manager)
        port = free_port()
        with ui_server(memory, port, cwd=project), chromium(Path(tmp) / "profile") as browser:
            page = browser.new_page()
            page.emulate_media(color_scheme="light")
            page.goto(f"http://127.0.0.1:{port}/ui/")
            page.get_by_role("button", name="swarm/shared/plan").click()
            page.locator("#detail-key").filter(has_text="swarm/shared/plan").wait_for()
            page.locator("#chart rect").first.wait_for()
            page.screenshot(path=str(output), full_page=True)
    print(f"wrote {output}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "ui.png")
