"""Take the dashboard's screenshots (docs/ui.png, docs/ui-phone.png) from a seeded store.

    .venv/bin/python docs/screenshot.py [OUTPUT.png]            # a desktop window
    .venv/bin/python docs/screenshot.py --phone [OUTPUT.png]    # 390 px wide, a phone

Needs Chromium (Debian: apt-get install chromium) and Playwright (the dev extra); it
seeds a fresh store in a temporary directory with the browser tests' swarm
(``tests.support.dashboard.seed``), serves it with ``memory-lifecycle ui``, searches
for "auth" and opens the shared plan, whose two agents disagree. The desktop picture is
the whole page; the phone one is the screen showing the search results.
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

DESKTOP = {"width": 1360, "height": 1000}
PHONE = {"width": 390, "height": 844}


def main(output: Path, viewport: dict[str, int]) -> None:
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
            page.set_viewport_size(viewport)
            page.emulate_media(color_scheme="light")
            page.goto(f"http://127.0.0.1:{port}/ui/")
            page.locator("#chart rect").first.wait_for()
            page.locator("#changes tbody tr[data-revision]").first.wait_for()
            page.fill("#q", "auth")
            page.locator("#entries .snippet mark").first.wait_for()
            if viewport == PHONE:
                page.locator("#entries-panel").evaluate("panel => panel.scrollIntoView()")
                page.screenshot(path=str(output))
            else:
                entries = page.locator("#entries")
                entries.get_by_role("button", name="swarm/shared/plan", exact=True).click()
                page.locator("#detail-key").filter(has_text="swarm/shared/plan").wait_for()
                page.screenshot(path=str(output), full_page=True)
    print(f"wrote {output}")


if __name__ == "__main__":
    args = sys.argv[1:]
    phone = "--phone" in args
    named = [a for a in args if a != "--phone"]
    default = Path(__file__).parent / ("ui-phone.png" if phone else "ui.png")
    main(Path(named[0]) if named else default, PHONE if phone else DESKTOP)
