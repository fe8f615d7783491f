// At the door: is the ID number being typed already someone's on this phone, or the mobile
// already on a person of this house? Answered from the numbers opened into memory at unlock
// (digits.js), never from anything kept in clear; a role that receives numbers masked has none
// there, so a masked number is never "known".
import {db} from "./db.js";
import * as digits from "./digits.js";

async function homeOf(d, personId) {
  const stay = (await d.getAllFromIndex("residency", "person_id", personId)).find((r) => !r.end_date);
  return stay ? {residency: stay, house: await d.get("house", stay.house_id)} : null;
}

/** The person holding this ID number, with where they live: {person, residency, house} or null. */
export async function byIdNumber(number) {
  const numbers = await digits.ready();
  if (!numbers || !number) return null;
  const d = await db();
  for (const [id, [n]] of numbers) {
    if (n !== number) continue;
    const person = await d.get("person", id);
    if (!person) continue;
    const home = await homeOf(d, id);
    if (home) return {person, ...home};
  }
  return null;
}

/** Occupants of the house whose mobile is this one. */
export async function byPhoneInHouse(houseId, phone) {
  const numbers = await digits.ready();
  if (!numbers || !phone) return [];
  const d = await db();
  const out = [];
  for (const stay of await d.getAllFromIndex("residency", "house_id", houseId)) {
    if (stay.end_date || numbers.get(stay.person_id)?.[1] !== phone) continue;
    const person = await d.get("person", stay.person_id);
    if (person) out.push({person, residency: stay});
  }
  return out;
}
