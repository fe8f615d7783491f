"""Every code a sync answer can carry, and what the app does with it: the one list that
docs/sync.md §8 and /api/openapi.json are generated from (sync/reference.py).
tests/test_sync_reference.py finds every code the code uses and fails on one missing here."""
from __future__ import annotations

# A push's outcome per mutation (docs/sync.md §3).
OUTCOMES: dict[str, str] = {
    "applied": "written as sent; drop it from the outbox (protocol 2: take `version` and `set` into the local record)",
    "merged": "written, merged with changes made elsewhere, or it duplicated a record that exists (`canonical_id`: "
              "use that id from now on, and drop the local record: never keep it under `canonical_id`); the pull "
              "brings the record",
    "already_applied": "this mutation id was received before; `first_status` (with `version`, `set`, `errors`, "
                       "`conflict_id`, `canonical_id`, `blocked_by`) says what happened then",
    "rejected": "invalid (`errors`); keep it to fix and resend under a new id and seq",
    "blocked": "depends on a rejected mutation (`blocked_by`); resend with it once fixed",
    "conflict": "not merged (`conflict_id`); the centre decides; a create's local record is dropped",
}

# Per-mutation problems: `errors[].code` of a `rejected` outcome.
MUTATION_ERRORS: dict[str, str] = {
    "field.not_writable": "the field is not one the phone may write for this type",
    "field.required": "a field a record needs is missing from its create, or empty (in a create or a change)",
    "field.type": "the value is not of the field's type (text, number, boolean, UUID, date, time)",
    "field.choice": "not one of the field's allowed values (§8 Allowed values)",
    "field.too_long": "text longer than the column holds",
    "field.characters": "text with characters that cannot be stored (NUL, a lone surrogate)",
    "field.range": "a number outside any plausible range (areas, coordinates), or a day outside 1900-01-01 to "
                   "2099-12-31 (a move-in, a permit's dates, a visit)",
    "id.required": "no ID number", "id.type_unknown": "unknown id_type",
    "id.format": "the ID number is not in the format of its type", "id.length": "wrong length",
    "id.check": "the check character is wrong", "id.area_unknown": "no such area code",
    "id.birth_invalid": "the birth date in the number is not a date",
    "id.birth_future": "the birth date in the number is in the future",
    "id.birth_implausible": "the birth date in the number is implausibly early",
    "id.hmt_area": "not a Hong Kong, Macao or Taiwan area code (hmt_permit)",
    "id.foreign_prefix": "a foreign permanent residence card must start with 9",
    "id.type_hmt_permit": "the number is a Hong Kong, Macao or Taiwan residence permit's: use id_type hmt_permit",
    "id.type_foreign_permanent": "the number is a foreign permanent residence card's: use id_type foreign_permanent",
    "phone.required": "no phone number", "phone.format": "not a mainland mobile or fixed-line number",
    "uscc.required": "no credit code", "uscc.format": "not a unified social credit code",
    "uscc.length": "a credit code has 18 characters", "uscc.check": "the credit code's check character is wrong",
    "house_code.required": "no plate code", "house_code.format": "not a plate code",
    "house_code.length": "wrong length for a plate code", "house_code.check": "the plate code's check character is wrong",
    "residency.dates": "end_date before start_date",
    "task.result": "a task's result does not go with its status",
    "task.visit_house": "the closing visit is at another house than the task",
    "residency.room_house": "the residency's room is a room of another house",
    "review.transition": "this review cannot move to that status, by this role (docs/sync.md §2 Review)",
    "review.reason": "returning a review needs a reason (at most 200 characters)",
    "op.not_allowed": "this type cannot be created, edited or deleted from a phone",
    "record.unknown": "the record to change does not exist (devices that see every cell; others get out_of_scope)",
    "ref.unknown": "a reference names no record",
    "base_version.required": "a change of an existing record needs base_version",
    "base_version.range": "base_version is not a version any record has (not an integer, or past 2^31 - 1)",
    "seq.reused": "this device already used the seq for another mutation; resend under a new seq (and id)",
    "role.read_only": "the role may look but not change the registry",
}

# Refusals of a whole request: problem+json `code` with its HTTP status.
REQUEST_ERRORS: dict[str, tuple[int, str]] = {
    "device_unknown": (401, "no such token: log in again online"),
    "device_expired": (401, "no sync for DEVICE_IDLE_DAYS: log in again online (replaces: this token); the outbox stays"),
    "user_inactive": (401, "the login was deactivated: as device_revoked"),
    "device_revoked": (403, "stop syncing; export the outbox for the centre, then wipe (`wipe_after_handover`)"),
    "protocol_outdated": (426, "this protocol is no longer served: update the app; the outbox stays and is pushed by it"),
    "protocol_unsupported": (400, "the app is newer than the server: keep the outbox, try later"),
    "invalid_protocol": (422, "`protocol` missing or not an integer"),
    "unsupported_media_type": (415, "send Content-Type: application/json"),
    "unsupported_encoding": (415, "a Content-Encoding other than gzip, deflate, zstd or br"),
    "invalid_encoding": (400, "the body is not valid in its Content-Encoding"),
    "body_too_large": (413, "the body expands past PUSH_MAX_EXPANDED_MB (or is past MAX_UPLOAD_MB as sent)"),
    "invalid_json": (400, "the body is not UTF-8 JSON"),
    "json_too_deep": (422, "JSON nested deeper than 32 levels"),
    "number_out_of_range": (422, "an integer past 64 bits or a number past a double"),
    "invalid_batch": (422, "the envelope is malformed (not an object, mutations not a list, a bad clock, two "
                           "mutations under one seq)"),
    "invalid_mutation": (422, "a mutation without a UUID id or record_id, a seq from 1 to 2^53 - 1, a known type "
                              "and op, or with fields or base not objects, or an `at` that is not an ISO 8601 time with a zone"),
    "batch_too_large": (413, "more than 5,000 mutations in one push"),
    "invalid_limit": (422, "pull `limit`, or a push's `pull.limit`, not a whole number from 1 to 10,000"),
    "cursor_invalid": (422, "unknown, altered or another user's cursor, one sealed with a former SECRET_KEY, or a "
                          "change between every cell and some, or another role for the user: pull again without "
                          "one (a snapshot)"),
    "login_failed": (401, "wrong username or password (the same for an unknown or disabled login)"),
    "too_many_attempts": (429, "too many failed logins: wait `retry_after` seconds (header Retry-After)"),
    "role_no_device": (403, "the role holds no phone (police, community reporters)"),
    "password_change_required": (403, "a temporary password: change it in the console first"),
    "too_many_devices": (409, "the login holds DEVICES_PER_USER live tokens already"),
    "invalid_device": (422, "label, app_version or replaces not text"),
    "not_found": (404, "/api/walk: a cell the caller does not see"),
}
