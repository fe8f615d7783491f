"""A tab still on the old IndexedDB version while a newer app upgrades the database: the old tab
closes its connection (so the upgrade is not blocked), says to reload without reloading by
itself (a form being typed stays), saves nothing more, and the outbox comes through intact."""
from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer

RELOAD_ZH = "应用已在其他页面升级：请重新加载本页（待同步数据已保存）"

# What a newer release's db.js does: open the next version (the app's is 4), add a store. It waits while an old
# connection stays open, so give up after a few seconds and say "blocked".
NEWER = 5
UPGRADE = """async (url) => {
  const {openDB} = await import(url);
  let blocked = false;
  const opening = openDB('gridwalk', %d, {upgrade(d) { d.createObjectStore('probe'); }, blocked() { blocked = true; }});
  const d = await Promise.race([opening, new Promise((ok) => setTimeout(() => ok(null), 5000))]);
  if (!d) return {blocked};
  window.__newer = d;
  return {blocked, version: d.version, stores: [...d.objectStoreNames],
          outbox: (await d.getAll('outbox')).map((e) => [e.type, e.state])};
}"""
UPGRADE = UPGRADE.replace("%d", str(NEWER))
OUTBOX = "async () => (await window.__newer.getAll('outbox')).length"


def test_old_tab_steps_aside_for_a_db_upgrade(page: Page, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server)
    fa.app_login(page, area.username)
    house = area.houses[0]
    fa.block_sync(page)
    fa.add_occupant(page, house, f"升级{uuid.uuid4().hex[:4]}", fa.fresh_id())
    assert len(fa.outbox(page)) == 2
    # The coordinator is half-way through the next occupant when the new version arrives.
    fa.go(page, f"#/house/{house}/add-person")
    page.fill("[name=name]", "正在填写")
    page.evaluate("() => { window.__sameDocument = true; }")
    idb_url = page.evaluate("() => document.querySelector('meta[name=gw-idb]').content")

    newer = page.context.new_page()
    newer.goto("/login")  # another page of the origin, standing in for the new release
    upgraded = newer.evaluate(UPGRADE, idb_url)
    assert upgraded.get("version") == NEWER, upgraded  # not blocked: the old tab closed its connection
    assert "probe" in upgraded["stores"] and "outbox" in upgraded["stores"]
    assert sorted(upgraded["outbox"]) == [["person", "pending"], ["residency", "pending"]]

    # The old tab says to reload, and did not reload: the form and its text are still there.
    expect(page.locator("#db-outdated")).to_contain_text(RELOAD_ZH)
    assert page.evaluate("() => window.__sameDocument") is True
    expect(page.locator("[name=name]")).to_have_value("正在填写")
    # Saving from the old tab cannot write half a change into the upgraded database.
    page.fill("[name=id_number]", fa.fresh_id())
    with page.expect_event("pageerror") as failed:  # the save is refused: the database is closed
        page.click("button[type=submit]")
    assert "reload" in str(failed.value)
    assert page.evaluate("() => location.hash") == f"#/house/{house}/add-person"
    assert newer.evaluate(OUTBOX) == 2

    # Reloaded while still the old code: the same advice (not a crash), and the outbox is intact.
    newer.evaluate("() => window.__newer.close()")
    page.reload()
    expect(page.locator("#db-outdated")).to_contain_text(RELOAD_ZH)
    reopened = newer.evaluate(UPGRADE, idb_url)
    assert reopened.get("version") == NEWER and len(reopened["outbox"]) == 2, reopened
    fa.unblock_sync(page)


V1 = """async (url) => {
  // The database as version 1 of the app left it: no review store, a cursor, a queued change.
  const {openDB} = await import(url);
  const tables = ['committee', 'cell', 'house', 'house_code', 'room', 'house_flag', 'house_event', 'unit', 'person',
                  'residency', 'visit', 'tip'];  // the task store's first name
  const d = await openDB('gridwalk', 1, {upgrade(db) {
    for (const t of tables) { const s = db.createObjectStore(t, {keyPath: 'id'}); if (t !== 'committee' && t !== 'cell' && t !== 'person') s.createIndex(t === 'house' ? 'cell_id' : 'house_id', t === 'house' ? 'cell_id' : 'house_id'); }
    db.createObjectStore('outbox', {keyPath: 'seq'}); db.createObjectStore('meta');
  }});
  await d.put('meta', '1.0.2.12.0.', 'cursor');
  await d.put('meta', 1, 'seq');
  await d.put('outbox', {seq: 1, id: 'e1', type: 'visit', op: 'create', record_id: 'v1', fields: {}, state: 'pending'});
  d.close();
}"""
NOW = """async (url) => {
  const {openDB} = await import(url);
  const d = await openDB('gridwalk');
  const out = {version: d.version, stores: [...d.objectStoreNames], cursor: (await d.get('meta', 'cursor')) ?? null,
               outbox: (await d.getAll('outbox')).map((e) => e.id)};
  d.close();
  return out;
}"""


def test_upgrade_to_the_review_store_keeps_the_outbox_and_pulls_everything_again(page: Page, live_server: LiveServer) -> None:
    """Version 2 adds the `review` store; an older app skipped review rows while its cursor moved
    on, so the upgrade forgets the cursor (the next pull is a full one) and keeps the outbox."""
    page.goto("/login")
    idb_url = page.evaluate("() => fetch('/app/').then((r) => r.text()).then((t) => t.match(/gw-idb\" content=\"([^\"]+)/)[1])")
    page.evaluate(V1, idb_url)
    page.goto("/app/")
    fa.wait_ready(page)
    now = page.evaluate(NOW, idb_url)
    assert now["version"] == 4 and "review" in now["stores"], now
    assert "task" in now["stores"] and "tip" not in now["stores"], now
    assert now["cursor"] is None and now["outbox"] == ["e1"], now


# The database as version 3 of the app left it, made from today's: the task store under its first
# name `tip`, and the outbox's task mutations typed "tip" (issue 20). The app's tab closes its
# connection when asked (db.js `blocking`), so the database can be deleted and made again.
AS_VERSION_3 = """async (url) => {
  const {openDB, deleteDB} = await import(url);
  const d = await openDB('gridwalk');
  const dump = {};
  for (const name of d.objectStoreNames) {
    const store = d.transaction(name).store;
    dump[name] = {keys: await store.getAllKeys(), values: await store.getAll(), keyPath: store.keyPath,
                  auto: store.autoIncrement, indexes: [...store.indexNames]};
  }
  d.close();
  await deleteDB('gridwalk');
  const first = (name) => name === 'task' ? 'tip' : name;
  const old = await openDB('gridwalk', 3, {upgrade(db) {
    for (const [name, s] of Object.entries(dump)) {
      const store = db.createObjectStore(first(name), s.keyPath ? {keyPath: s.keyPath} : {autoIncrement: s.auto});
      for (const i of s.indexes) store.createIndex(i, i);
    }
  }});
  for (const [name, s] of Object.entries(dump)) {
    const tx = old.transaction(first(name), 'readwrite');
    s.values.forEach((v, i) => {
      const row = name === 'outbox' && v.type === 'task' ? {...v, type: 'tip'} : v;
      if (s.keyPath) tx.store.put(row); else tx.store.put(row, s.keys[i]);
    });
    await tx.done;
  }
  const out = {version: old.version, stores: [...old.objectStoreNames], tip: (await old.getAll('tip')).map((r) => r.id),
               outbox: (await old.getAll('outbox')).map((e) => e.type)};
  old.close();
  return out;
}"""
STORES = """async (url) => {
  const {openDB} = await import(url);
  const d = await openDB('gridwalk');
  const out = {version: d.version, stores: [...d.objectStoreNames], task: (await d.getAll('task')).map((r) => r.id),
               outbox: (await d.getAll('outbox')).map((e) => [e.type, e.record_id])};
  d.close();
  return out;
}"""


def test_upgrade_renames_the_tip_store_to_task_and_its_queued_mutations(page: Page, live_server: LiveServer) -> None:
    """Version 4 renames the store `tip` to `task` (issue 20): every row moves, a mutation queued
    offline as "tip" is retyped "task", nothing is lost, and it syncs to the server."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from webapp.models import House, Task
    from webapp.registry.tasks import create_task

    area = fa.coordinator_area(live_server)
    with Session(live_server.engine) as s:
        houses = [s.get(House, uuid.UUID(h)) for h in area.houses]
        made = [create_task(s, h, "moved_in", f"升级前的待办{i}") for i, h in enumerate(houses)]
        s.commit()
        ids = sorted(str(t.id) for t in made)
    fa.app_login(page, area.username)
    idb_url = page.evaluate("() => document.querySelector('meta[name=gw-idb]').content")
    assert sorted(page.evaluate(STORES, idb_url)["task"]) == ids
    # Closed offline, still queued, when the update arrives.
    fa.block_sync(page)
    closing = {"status": "done", "outcome": "已核实", "result": "no_change"}
    fa.queue(page, [{"type": "task", "op": "update", "record_id": ids[0], "base_version": 1, "fields": closing,
                     "base": {k: None for k in closing} | {"status": "open"}, "local": closing}])

    older = page.context.new_page()
    older.goto("/login")
    made_old = older.evaluate(AS_VERSION_3, idb_url)
    assert made_old["version"] == 3 and "tip" in made_old["stores"] and "task" not in made_old["stores"], made_old
    assert sorted(made_old["tip"]) == ids and made_old["outbox"] == ["tip"], made_old
    older.close()

    page.reload()
    fa.unlock(page)
    now = page.evaluate(STORES, idb_url)
    assert now["version"] == 4 and "task" in now["stores"] and "tip" not in now["stores"], now
    assert sorted(now["task"]) == ids, now
    assert now["outbox"] == [["task", ids[0]]], now

    fa.unblock_sync(page)
    result = fa.sync(page)
    assert result["ok"] and fa.outbox(page) == [], result
    with Session(live_server.engine) as s:
        closed = s.scalars(select(Task).where(Task.id == uuid.UUID(ids[0]))).one()
        assert (closed.status, closed.result, closed.outcome) == ("done", "no_change", "已核实")
