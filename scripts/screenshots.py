"""The README's screenshots of /statistics and /admin/users, at desktop and phone width:

    .venv/bin/python scripts/screenshots.py

Serves the app on a throwaway SQLite database holding the demo subdistrict (a small scale of
`flask seed-demo`, the same every run), logs in as the centre through the login form, and
writes docs/screenshots/*.png with Debian's headless Chromium (never `playwright install`).
"""
from __future__ import annotations

import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import _config_for, _migrate  # noqa: E402
from tests.e2e.conftest import CHROMIUM  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
PAGES = [("statistics", "/statistics"), ("admin-users", "/admin/users")]
WIDTHS = [("desktop", 1280, 900), ("phone", 390, 844)]


def main() -> None:
    from webapp.app import create_app
    from webapp.auth.passwords import hash_password
    from webapp.extensions import db
    from webapp.registry.demo import generate

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/shots.sqlite3"
        _migrate(url)
        app = create_app(_config_for(url))
        with app.app_context():
            generate(db.session, scale=0.1, password_hash=hash_password(app.config["DEMO_PASSWORD"]))
            db.session.commit()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        OUT.mkdir(parents=True, exist_ok=True)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--disable-gpu", "--disable-quic"])
                for size, width, height in WIDTHS:
                    context = browser.new_context(base_url=base, locale="zh-CN",
                                                  viewport={"width": width, "height": height},
                                                  device_scale_factor=1)
                    page = context.new_page()
                    page.goto("/login")
                    page.locator("#username").fill("centre")
                    page.locator("#password").fill(app.config["DEMO_PASSWORD"])
                    page.locator("main form button[type=submit]").click()
                    page.wait_for_url(lambda u: "/login" not in u)
                    for name, path in PAGES:
                        page.goto(path)
                        target = OUT / f"{name}-{size}.png"
                        page.screenshot(path=str(target), full_page=True)
                        print(target.relative_to(ROOT))
                    context.close()
                browser.close()
        finally:
            server.shutdown()
            with app.app_context():
                db.engine.dispose()


if __name__ == "__main__":
    main()
