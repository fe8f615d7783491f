"""A phone already in the field: the app before issue 15 kept persons' phone, birth date, hukou
fields, notes and the last six ID digits in clear beside the encrypted ID number, and a PIN of 4
digits wrapped at 200,000 PBKDF2 iterations. The new app upgrades the database; at the first
unlock it asks for a PIN of 6+ digits, seals every person and queued change, deletes the clear
copies, and everything still shows, searches and syncs."""
from __future__ import annotations

import random
import uuid

from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.e2e import fieldapp as fa
from tests.e2e.conftest import LiveServer
from tests.e2e.test_fieldapp_at_rest import assert_nothing_in_clear, full_residents, others_phones
from tests.e2e.test_fieldapp_sealed_search import found
from webapp.models import Person

OLD_PIN = "2468"
NEW_PIN = "135792"

# What the app before issue 15 left on a phone after its login and first sync, written the way
# its vault.js, sync.js and outbox.js wrote it (IndexedDB version 2), plus one occupant added
# offline and still queued.
OLD_PHONE = """async ([idbUrl, username, password, pin, queued, oldServer]) => {
  const {openDB} = await import(idbUrl);
  const enc = new TextEncoder();
  const b64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)));
  const call = async (method, path, body, token) => {
    const headers = {Accept: 'application/json'};
    if (body) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = `Bearer ${token}`;
    const r = await fetch(path, {method, headers, body: body ? JSON.stringify(body) : undefined});
    return r.json();
  };
  const reg = await call('POST', '/api/devices', {username, password, label: 'old app', app_version: '0.4.0'});
  const key = await crypto.subtle.generateKey({name: 'AES-GCM', length: 256}, true, ['encrypt', 'decrypt']);
  const wrap = async (secret) => {
    const salt = crypto.getRandomValues(new Uint8Array(16)), iv = crypto.getRandomValues(new Uint8Array(12));
    const base = await crypto.subtle.importKey('raw', enc.encode(secret), 'PBKDF2', false, ['deriveKey']);
    const kek = await crypto.subtle.deriveKey({name: 'PBKDF2', salt, iterations: 200000, hash: 'SHA-256'}, base,
      {name: 'AES-GCM', length: 256}, false, ['wrapKey']);
    return {salt: b64(salt), iv: b64(iv), wrapped: b64(await crypto.subtle.wrapKey('raw', key, kek, {name: 'AES-GCM', iv}))};
  };
  const seal = async (text) => {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    return {iv: b64(iv), ct: b64(await crypto.subtle.encrypt({name: 'AES-GCM', iv}, key, enc.encode(text)))};
  };
  const maskId = (n) => n.slice(0, 3) + '*'.repeat(n.length - 7) + n.slice(-4);
  const protectId = async (n) => (n ? {id_enc: await seal(n), id_masked: maskId(n), id_tail: n.slice(-6)} : {id_enc: null, id_masked: '', id_tail: ''});
  const tables = ['committee', 'cell', 'house', 'house_code', 'room', 'house_flag', 'house_event', 'unit', 'person', 'residency',
    'visit', 'tip', 'review'];
  const indexes = {house: ['cell_id'], house_code: ['code', 'house_id'], room: ['house_id'], house_flag: ['house_id'],
    house_event: ['house_id'], unit: ['house_id'], residency: ['house_id', 'person_id'], visit: ['house_id'], tip: ['house_id'], review: ['house_id']};
  const d = await openDB('gridwalk', 2, {upgrade(db) {
    for (const t of tables) { const s = db.createObjectStore(t, {keyPath: 'id'}); for (const i of indexes[t] || []) s.createIndex(i, i); }
    db.createObjectStore('outbox', {keyPath: 'seq'}); db.createObjectStore('meta');
  }});
  let cursor = null;
  for (;;) {
    const q = new URLSearchParams({protocol: 1, limit: 2000});
    if (cursor) q.set('cursor', cursor);
    const page = await call('GET', `/api/sync/pull?${q}`, null, reg.token);
    for (const t of tables) for (const row of page.changes[t] || []) {
      // The server of that time also sent a tip's call-back phone and a unit's contacts.
      if (t === 'tip' && !('contact_phone' in row)) row.contact_phone = oldServer.tip;
      if (t === 'unit' && !('contacts' in row)) row.contacts = [{name: '店主', phone: oldServer.unit}];
      if (t !== 'person') { await d.put(t, row); continue; }
      const {id_number, ...rest} = row;
      await d.put(t, {...rest, ...(await protectId(id_number))});
    }
    cursor = page.cursor;
    if (!page.more) break;
  }
  const q = queued;
  const fields = {name: q.name, id_type: 'resident', id_number: {$enc: await seal(q.id_number)}, phone: q.phone, category: 'migrant'};
  const local = {name: q.name, id_type: 'resident', phone: q.phone, category: 'migrant', sex: 'M', birth_date: q.birth_date,
    ...(await protectId(q.id_number))};
  const stay = {person_id: q.person_id, house_id: q.house_id, start_date: '2026-01-05', relation: 'tenant'};
  const at = new Date().toISOString();
  await d.put('outbox', {type: 'person', op: 'create', record_id: q.person_id, base_version: null, fields, base: {}, local,
    id: crypto.randomUUID(), seq: 1, at, state: 'pending'});
  await d.put('outbox', {type: 'residency', op: 'create', record_id: crypto.randomUUID(), base_version: null, fields: stay, base: {},
    local: stay, id: crypto.randomUUID(), seq: 2, at, state: 'pending'});
  await d.put('person', {...local, id: q.person_id, version: 0});
  await d.put('residency', {...stay, id: crypto.randomUUID(), version: 0});
  await d.put('meta', {device_id: reg.device_id, token: reg.token, user: reg.user}, 'device');
  await d.put('meta', {byPin: await wrap(pin), byPassword: await wrap(password)}, 'vault');
  await d.put('meta', cursor, 'cursor');
  await d.put('meta', 2, 'seq');
  const people = await d.getAll('person');
  d.close();
  return people;
}"""


def test_an_old_phone_is_resealed_at_its_first_unlock(page: Page, live_server: LiveServer) -> None:
    area = fa.coordinator_area(live_server)
    residents = full_residents(live_server, area.houses[0], area.tag)
    others = others_phones(live_server, area.houses[0])
    number = fa.fresh_id()
    queued = {"name": f"旧队列{area.tag}", "id_number": number, "phone": f"135{random.randrange(10**7, 10**8)}",
              "birth_date": f"{number[6:10]}-{number[10:12]}-{number[12:14]}", "person_id": str(uuid.uuid4()),
              "house_id": area.houses[1]}
    page.goto("/login")
    idb_url = page.evaluate("() => fetch('/app/').then((r) => r.text()).then((t) => t.match(/gw-idb\\\" content=\\\"([^\\\"]+)/)[1])")
    old = page.evaluate(OLD_PHONE, [idb_url, area.username, "pw", OLD_PIN, queued, {"tip": others[0], "unit": others[1]}])
    # The old phone as the finding saw it: last six digits, birth date and region side by side.
    full = next(p for p in old if p["name"] == residents[0]["name"])
    assert full["id_tail"] == residents[0]["id_number"][-6:] and full["birth_date"] and full["hukou_region"]
    assert [x for x in others if x in fa.idb_dump(page)] == others  # a tip's phone, a unit's contact

    page.goto("/app/")
    fa.wait_ready(page)
    assert fa.meta(page, "reseal") is True  # marked by the database upgrade, before any PIN
    page.fill("[name=pin]", OLD_PIN)
    page.click("#unlock-go")
    # The right PIN, but too short now: a new one of 6+ digits first (a 4/5-digit one is refused).
    expect(page.locator("#pin-weak")).to_be_visible()
    for short in ("1357", "13579"):
        page.fill("[name=pin]", short)
        page.fill("[name=pin2]", short)
        page.click("#pin-go")
        expect(page.locator('[data-error-for="pin"]')).to_have_text("PIN码应为6至12位数字")
    assert page.evaluate("() => window.gridwalk.sync('probe')") == {"skipped": "locked"}
    page.fill("[name=pin]", NEW_PIN)
    page.fill("[name=pin2]", NEW_PIN)
    page.click("#pin-go")
    fa.wait(page, "location.hash === '' || location.hash === '#/cells'")
    fa.wait(page, "!document.querySelector('#pin-go')")

    assert fa.meta(page, "reseal") is None
    token = page.evaluate("async () => (await import('/static/pwa/api.js')).token()")
    assert isinstance(token, str) and not isinstance(fa.meta(page, "device")["token"], str)  # type: ignore[index]
    assert fa.meta(page, "vault")["byPin"]["iterations"] == 600000  # type: ignore[index]
    assert_nothing_in_clear(page, [queued["id_number"], queued["phone"], queued["birth_date"], number[6:14], token, *others],
                            live_server)

    # Nothing was lost: shown, searched, sent.
    first = residents[0]
    fa.go(page, f"#/house/{area.houses[0]}/person/{first['id']}/edit")
    expect(page.locator("[name=id_number]")).to_have_value(first["id_number"])
    expect(page.locator("[name=phone]")).to_have_value(first["phone"])
    expect(page.locator("[name=permit_number]")).to_have_value(first["permit_number"])
    fa.go(page, f"#/house/{area.houses[0]}")
    expect(page.locator("#occupants li", has_text=first["name"])).to_contain_text(first["birth_date"])
    fa.go(page, f"#/house/{area.houses[1]}/person/{queued['person_id']}/edit")
    expect(page.locator("[name=id_number]")).to_have_value(number)
    expect(page.locator("[name=phone]")).to_have_value(queued["phone"])
    assert first["name"] in found(page, first["id_number"][-6:])
    assert queued["name"] in found(page, queued["phone"][-4:])
    assert fa.sync(page)["ok"]
    assert fa.outbox(page) == []
    with Session(live_server.engine) as s:
        sent = s.scalars(select(Person).where(Person.name == queued["name"])).one()
        assert (sent.id_number, sent.phone) == (number, queued["phone"])
    assert_nothing_in_clear(page, [], live_server)

    # The old PIN is gone; the new one opens.
    page.evaluate("() => window.gridwalk.lock()")
    page.fill("[name=pin]", OLD_PIN)
    page.click("#unlock-go")
    expect(page.locator('[data-error-for="pin"]')).to_have_text("PIN码错误，还可尝试4次")
    page.fill("[name=pin]", NEW_PIN)
    page.click("#unlock-go")
    fa.wait(page, "!document.querySelector('#unlock-go')")
    assert first["name"] in found(page, first["phone"][-4:])
