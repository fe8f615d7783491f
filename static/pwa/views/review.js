// Review (审核) on the phone (docs/review contract): the state of each occupant's registration or
// move-out, the coordinator's returned entries with the lead's reason and "resubmit", and the
// lead's approve / return. Reviews are made by the server; a phone only pushes a status change.
import {db, getMeta} from "../db.js";
import {label, msg, t} from "../i18n.js";
import {save} from "../outbox.js";
import {address} from "../store.js";
import {field, formValues, h, showErrors, toast} from "../ui.js";

export const REASON_MAX = 200;
const DECIDERS = new Set(["grid_lead", "committee", "centre"]);

export const role = async () => (await getMeta("device"))?.user?.role ?? null;
export const mayDecide = (r) => DECIDERS.has(r);

// Show the current screen again (through the router, so views render one at a time).
const again = () => window.dispatchEvent(new HashChangeEvent("hashchange"));
const live = (rows) => rows.filter((r) => !r.deleted_at);

export async function ofHouse(houseId) {
  return live(await (await db()).getAllFromIndex("review", "house_id", houseId));
}

/** Reviews in a state, with their house and person (when still on the phone), oldest first. */
export async function withStatus(status, cellId = null) {
  const d = await db();
  const out = [];
  for (const review of live(await d.getAll("review"))) {
    if (review.status !== status) continue;
    const house = await d.get("house", review.house_id);
    if (cellId && (review.cell_id ?? house?.cell_id) !== cellId) continue;
    out.push({review, house, person: await d.get("person", review.person_id)});
  }
  return out.sort((a, b) => String(a.review.created_at).localeCompare(String(b.review.created_at)));
}

/** Who the review is about: the phone's record, else the name the server kept on the review
 * (after a move-out the person is no longer on the phone). */
const nameOf = ({review, person}) => person?.name || review.person_name || t("review_person_gone");

/** The tag shown at an occupant: 待审核, or 已退回 with the reason (approved shows nothing). */
export function tag(review) {
  if (!review || review.status === "approved") return null;
  const returned = review.status === "returned";
  return h("span", {class: returned ? "review-state returned" : "review-state"},
    h("span", {class: returned ? "tag bad" : "tag warn", "data-review": review.status}, label("review_status", review.status)),
    returned && review.reason ? h("span", {class: "reason"}, ` ${t("review_reason")}：${review.reason}`) : null);
}

async function change(review, fields) {
  const base = Object.fromEntries(Object.keys(fields).map((k) => [k, review[k] ?? null]));
  await save([{type: "review", op: "update", record_id: review.id, base_version: review.version ?? null, fields, base, local: fields}]);
}

/** The coordinator fixed what was wrong: pending again (the reason stays for the lead to see). */
export async function resubmit(review) {
  await change(review, {status: "pending"});
  toast(t("saved"));
}

export function check(values) {
  const reason = (values.reason || "").trim();
  if (!reason) return [{field: "reason", code: "review.reason", zh: "退回须说明原因", en: "Say why it is returned"}];
  if (reason.length > REASON_MAX) {
    return [{field: "reason", code: "review.reason", zh: `原因不超过${REASON_MAX}字`, en: `At most ${REASON_MAX} characters`}];
  }
  return [];
}

const who = ({review, person, house}) => [
  h("strong", {}, nameOf({review, person})), " ",
  h("span", {class: "tag"}, label("review_kind", review.kind)),
  house ? h("span", {class: "muted"}, ` ${address(house)}`) : null];

/** A returned entry for the coordinator: the reason, a link to the house, and 重新提交. */
export function returnedItem(item, onDone = again) {
  const button = h("button", {type: "button", class: "small", "data-resubmit": item.review.id}, t("review_resubmit"));
  button.addEventListener("click", async () => {
    button.disabled = true;
    await resubmit(item.review);
    onDone?.();
  });
  return h("li", {class: "review", "data-review-id": item.review.id},
    h("div", {}, ...who(item)),
    h("p", {class: "reason"}, `${t("review_reason")}：${item.review.reason || ""}`),
    h("div", {class: "actions wrap"}, item.house ? h("a", {class: "button small ghost", href: `#/house/${item.house.id}`}, t("house")) : null, button));
}

/** The coordinator's returned entries (the task list shows them). */
export async function returnedSection(onDone = again) {
  const items = await withStatus("returned");
  if (!items.length) return null;
  return [h("h2", {}, `${t("review_returned")} (${items.length})`),
    h("ul", {class: "list", id: "reviews-returned"}, items.map((item) => returnedItem(item, onDone)))];
}

/** A pending entry for the lead: approve, or return with a reason (both offline, through the outbox). */
export function pendingItem(item, onDone = again) {
  const approve = h("button", {type: "button", class: "small", "data-approve": item.review.id}, t("review_approve"));
  approve.addEventListener("click", async () => {
    approve.disabled = true;
    await change(item.review, {status: "approved"});
    toast(t("saved"));
    onDone?.();
  });
  const form = h("form", {class: "return", novalidate: true, "aria-label": `${t("review_return")} ${nameOf(item)}`},
    field(t("review_reason"), "reason", {kind: "textarea", maxlength: REASON_MAX}),
    h("button", {type: "submit", class: "small ghost danger"}, t("review_return")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const errors = check(formValues(form));
    if (errors.length) return showErrors(form, errors, msg);
    form.querySelector("button").disabled = true;
    await change(item.review, {status: "returned", reason: formValues(form).reason});
    toast(t("saved"));
    return onDone?.();
  });
  return h("li", {class: "review", "data-review-id": item.review.id},
    h("div", {}, ...who(item)),
    item.house ? h("p", {}, h("a", {href: `#/house/${item.house.id}`}, t("house"))) : null,
    h("div", {class: "actions"}, approve), form);
}

/** What the house page shows: a tag (and 重新提交 for a returned one) at each occupant, and the
 * house's move-outs under review (their residency is no longer among the occupants). */
export async function housePart(houseId, onDone = again) {
  const reviews = await ofHouse(houseId);
  const decider = mayDecide(await role());
  const registration = new Map(reviews.filter((r) => r.kind === "registration").map((r) => [r.residency_id, r]));
  const resubmitButton = (r) => {
    if (r?.status !== "returned" || decider) return null;
    const button = h("button", {type: "button", class: "small ghost", "data-resubmit": r.id}, t("review_resubmit"));
    button.addEventListener("click", async () => { button.disabled = true; await resubmit(r); onDone?.(); });
    return button;
  };
  const d = await db();
  const moves = [];
  for (const r of reviews) {
    if (r.kind !== "move_out" || r.status === "approved") continue;
    moves.push({review: r, person: await d.get("person", r.person_id)});
  }
  return {
    tag: (residencyId) => tag(registration.get(residencyId)),
    action: (residencyId) => resubmitButton(registration.get(residencyId)),
    moveOuts: moves.length ? [h("h2", {}, t("review_move_outs")), h("ul", {class: "list", id: "reviews-move-out"}, moves.map((m) =>
      h("li", {class: "review", "data-review-id": m.review.id}, h("strong", {}, nameOf(m)), " ",
        tag(m.review), " ", resubmitButton(m.review))))] : null,
  };
}
