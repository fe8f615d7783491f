// Reading the local records: cells, houses, occupants, codes, search.
import {db} from "./db.js";
import {open} from "./vault.js";

export const address = (h) => [h.road, h.number, h.building && `${h.building}号楼`, h.unit && `${h.unit}单元`,
  h.room && `${h.room}室`].filter(Boolean).join(" ");

export async function cells() {
  const d = await db();
  const houses = await d.getAll("house");
  return (await d.getAll("cell")).map((c) => ({...c, houses: houses.filter((h) => h.cell_id === c.id).length}))
    .sort((a, b) => String(a.code).localeCompare(String(b.code)));
}

const monthStart = () => { const n = new Date(); return new Date(n.getFullYear(), n.getMonth(), 1).toISOString(); };

export async function housesOf(cellId) {
  const d = await db();
  const since = monthStart();
  const out = [];
  for (const h of await d.getAllFromIndex("house", "cell_id", cellId)) {
    const visits = await d.getAllFromIndex("visit", "house_id", h.id);
    const occupants = (await d.getAllFromIndex("residency", "house_id", h.id)).filter((r) => !r.end_date).length;
    const tips = (await d.getAllFromIndex("tip", "house_id", h.id)).filter((t) => t.status === "open").length;
    out.push({...h, visited: visits.some((v) => v.visited_at >= since), occupants, tips});
  }
  return out.sort((a, b) => address(a).localeCompare(address(b), "zh"));
}

export async function house(id) {
  const d = await db();
  const h = await d.get("house", id);
  if (!h) return null;
  const byHouse = (s) => d.getAllFromIndex(s, "house_id", id);
  const residencies = (await byHouse("residency")).filter((r) => !r.end_date);
  const occupants = [];
  for (const r of residencies) occupants.push({residency: r, person: (await d.get("person", r.person_id)) || {id: r.person_id}});
  return {house: h, occupants, codes: await byHouse("house_code"), flags: (await byHouse("house_flag")).filter((f) => !f.cleared_at),
    units: await byHouse("unit"), visits: (await byHouse("visit")).sort((a, b) => b.visited_at.localeCompare(a.visited_at)),
    tips: (await byHouse("tip")).filter((t) => t.status === "open")};
}

export async function houseByCode(code) {
  const d = await db();
  const row = (await d.getAllFromIndex("house_code", "code", code)).find((c) => !c.deleted_at && !c.retired_at);
  return row ? d.get("house", row.house_id) : null;
}

/** Full ID number of a person (needs the vault unlocked). */
export const fullId = (p) => (p.id_enc ? open(p.id_enc) : Promise.resolve(""));

export async function search(query) {
  const q = query.normalize("NFKC").trim().toUpperCase();
  if (!q) return {people: [], houses: []};
  const d = await db();
  const digits = /^[0-9]{3,17}[0-9X]?$/.test(q);
  const people = [];
  for (const p of await d.getAll("person")) {
    let hit = (p.name || "").toUpperCase().includes(q) || (p.phone && digits && p.phone.includes(q));
    if (!hit && digits && q.length >= 4 && q.length <= 6) hit = (p.id_tail || "").endsWith(q);
    if (!hit && digits && q.length > 6 && p.id_tail && q.endsWith(p.id_tail)) hit = (await fullId(p)) === q;
    if (hit) people.push(p);
  }
  const codes = await d.getAll("house_code");
  const houses = [];
  for (const h of await d.getAll("house")) {
    const text = `${address(h)} ${h.road}${h.number} ${h.room || ""}`.toUpperCase();
    if (text.includes(q) || codes.some((c) => c.house_id === h.id && c.code.includes(q))) houses.push(h);
  }
  const homes = {};
  for (const p of people) {
    const r = (await d.getAllFromIndex("residency", "person_id", p.id)).find((x) => !x.end_date);
    homes[p.id] = r?.house_id;
  }
  return {people, houses, homes};
}
