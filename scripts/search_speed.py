"""How fast the field app searches offline: N persons (default 50,000) in IndexedDB, 4× CPU
throttling, Debian's headless Chromium. A quick measurement for issue 7 (not a test):

    .venv/bin/python scripts/search_speed.py [persons]

Serves the app on a throwaway SQLite database, logs a coordinator in, fills IndexedDB through
the app's own db module (persons, one house and plate code per 2.5 persons, a residency each),
then times store.search(): the first call (which builds the index) and repeated calls.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright
from sqlalchemy import create_engine
from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import _config_for, _migrate  # noqa: E402
from tests.e2e import fieldapp as fa  # noqa: E402
from tests.e2e.conftest import CHROMIUM, LiveServer  # noqa: E402
from webapp.base.dbsetup import configure_engine  # noqa: E402

SEED = """async ([n]) => {
  const {db} = await import('/static/pwa/db.js');
  const d = await db();
  const cell = (await d.getAll('cell'))[0].id;
  const family = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗', given = '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平';
  const houses = Math.ceil(n / 2.5);
  for (let start = 0; start < n; start += 5000) {
    const tx = d.transaction(['person', 'house', 'house_code', 'residency'], 'readwrite');
    for (let i = start; i < Math.min(n, start + 5000); i++) {
      const tail = String(100000 + i).slice(-6), person = crypto.randomUUID(), h = i % houses;
      const house = `00000000-0000-4000-8000-${String(h).padStart(12, '0')}`;
      if (i < houses) {
        tx.objectStore('house').put({id: house, version: 1, cell_id: cell, road: '谷阳北路', number: String(1 + (h >> 6)),
          building: String(1 + ((h >> 3) & 7)), unit: null, floor: 1 + (h & 7), room: `${1 + (h & 7)}0${1 + (h % 4)}`});
        tx.objectStore('house_code').put({id: crypto.randomUUID(), house_id: house, kind: 'plate',
          code: 'SJ' + String(h).padStart(7, '0')});
      }
      tx.objectStore('person').put({id: person, version: 1, name: family[i % 20] + given[(i * 7) % 20] + given[(i * 13) % 20],
        phone: '139' + String(10000000 + i), category: 'migrant', id_type: 'resident', id_tail: tail,
        id_masked: '3101**********' + tail.slice(-4), id_enc: null});
      tx.objectStore('residency').put({id: crypto.randomUUID(), version: 1, person_id: person, house_id: house,
        start_date: '2026-01-01', end_date: null});
    }
    await tx.done;
  }
  (await import('/static/pwa/store.js')).staleIndex();  // written behind the app's back: index stale
  return d.count('person');
}"""
SEARCH = """async ([q]) => {
  const {search} = await import('/static/pwa/store.js');
  const t = performance.now(); const r = await search(q);
  return {ms: performance.now() - t, hits: r.people.length + r.houses.length};
}"""
QUERIES = ["王伟", "123456", "13910012345", "谷阳北路12", "SJ0001234", "李", "305"]


def main(persons: int = 50_000) -> None:
    from webapp.app import create_app

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/speed.sqlite3"
        _migrate(url)
        app = create_app(_config_for(url))
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        engine = create_engine(url)
        configure_engine(engine)
        live = LiveServer(f"http://127.0.0.1:{server.server_port}", app, engine)
        area = fa.coordinator_area(live, houses=1)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--disable-gpu", "--disable-quic"])
                page = browser.new_context(base_url=live.url, locale="zh-CN").new_page()
                fa.app_login(page, area.username)
                count = page.evaluate(SEED, [persons])
                page.context.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": 4})
                first = page.evaluate(SEARCH, ["王伟"])
                print(f"{count:,} persons, {persons / 2.5:,.0f} houses, 4x CPU throttle")
                print(f"first search (builds the index): {first['ms']:.0f} ms")
                for q in QUERIES:
                    runs = [page.evaluate(SEARCH, [q]) for _ in range(7)]
                    ms = statistics.median(r["ms"] for r in runs)
                    print(f"search {q!r:>14}: median {ms:6.1f} ms, max {max(r['ms'] for r in runs):6.1f} ms, "
                          f"{runs[0]['hits']:,} hits")
                browser.close()
        finally:
            server.shutdown()
            engine.dispose()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000)
