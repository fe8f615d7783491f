"""The sync API described as OpenAPI 3.1 (served at /api/openapi.json); docs/sync.md explains it."""
from __future__ import annotations

from typing import Any

from sync.batch import ACCEPTED_PROTOCOLS, MAX_INT32, MAX_SEQ, OPS, PROTOCOL
from sync.codes import MUTATION_ERRORS, OUTCOMES, REQUEST_ERRORS
from sync.protocol import PULL_LIMIT_DEFAULT, PULL_LIMIT_MAX
from sync.conflicts import KINDS
from sync.reference import field_schema
from sync.wire import PROTOCOL_1_NAMES, RECORD_TYPES

_PROBLEM = {"$ref": "#/components/schemas/Problem"}


def _record_type() -> dict[str, Any]:
    """A record type: protocol 1 still calls some by their first names (sync/wire.py)."""
    first = {old: new for new, old in PROTOCOL_1_NAMES.items()}
    return {"enum": [*RECORD_TYPES, *sorted(first)],
            "description": "protocol 1 only: " + ", ".join(f"{old} (= {new})" for old, new in sorted(first.items()))}


def _fields(record_type: str) -> dict[str, Any]:
    """What a mutation of this type may set: each writable field with its type and, for a
    closed field, its allowed values (from webapp/models/enums.py, via sync/reference.py)."""
    writable = sorted(RECORD_TYPES[record_type].writable)
    return {"type": "object", "title": f"fields of a {record_type}", "additionalProperties": False,
            "properties": {name: field_schema(record_type, name) for name in writable}}


def _schemas() -> dict[str, Any]:
    """The generated part of the components: mutations' fields, outcomes, pages, conflicts."""
    out: dict[str, Any] = {f"Fields_{name}": _fields(name) for name in RECORD_TYPES}
    error = {"type": "object", "required": ["field", "code"], "properties": {
        "field": {"type": "string"}, "code": {"enum": sorted(MUTATION_ERRORS)},
        "zh": {"type": "string"}, "en": {"type": "string"}}}
    out["Outcome"] = {
        "type": "object", "required": ["seq", "status"],
        "description": "Protocol 2: seq, status and only what the phone does not know; protocol 1 also id, type, "
                       "record_id. " + " ".join(f"{k}: {v}." for k, v in OUTCOMES.items()),
        "properties": {
            "seq": {"type": "integer"}, "status": {"enum": list(OUTCOMES)},
            "first_status": {"enum": [k for k in OUTCOMES if k != "already_applied"]},
            "version": {"type": "integer", "description": "the record's version after this mutation: the next "
                                                           "edit's base_version"},
            "set": {"type": "object", "description": "applied (protocol 2): what the server set beside the phone's "
                                                     "values (derived, defaulted, normalised), by role"},
            "errors": {"type": "array", "items": error},
            "conflict_id": {"type": "string", "format": "uuid"}, "blocked_by": {"type": "string", "format": "uuid"},
            "canonical_id": {"type": "string", "format": "uuid"},
            "id": {"type": "string", "format": "uuid"}, "type": _record_type(),
            "record_id": {"type": "string", "format": "uuid"}}}
    out["ConflictNews"] = {"type": "object", "properties": {
        "id": {"type": "string", "format": "uuid"}, "kind": {"enum": list(KINDS)},
        "record_type": {"type": "string"}, "record_id": {"type": ["string", "null"]},
        "mutation_id": {"type": ["string", "null"]}, "created_at": {"type": "string", "format": "date-time"},
        "resolved_at": {"type": ["string", "null"], "format": "date-time"},
        "fields": {"type": "object", "additionalProperties": {"type": "object", "properties": {
            "registry": {}, "device": {}, "masked": {"type": "boolean"}}}},
        "decision": {"type": ["object", "null"], "properties": {
            "action": {"type": "string"}, "fields": {"type": "object", "additionalProperties": {
                "type": "object", "properties": {"choice": {"enum": ["keep", "take", "edit"]}, "value": {}}}}}}}}
    table = {"oneOf": [
        {"type": "object", "title": "protocol 2: column name → the rows' values",
         "additionalProperties": {"type": "array"}},
        {"type": "array", "title": "protocol 1: rows", "items": {"type": "object"}}]}
    out["Page"] = {"type": "object", "required": ["protocol", "cursor", "more", "snapshot", "high_water", "changes",
                                                  "evict", "last_applied_seq", "count"], "properties": {
        "protocol": {"type": "integer"}, "cursor": {"type": "string"}, "more": {"type": "boolean"},
        "snapshot": {"type": "boolean"}, "high_water": {"type": "integer"},
        "changes": {"type": "object", "additionalProperties": table},
        "evict": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        "last_applied_seq": {"type": "integer"}, "count": {"type": "integer"},
        "echoes": {"type": "integer", "description": "protocol 2: rows left out as this device's own writes"},
        "conflicts": {"type": "array", "items": {"$ref": "#/components/schemas/ConflictNews"}}}}
    return out


def _errors(*codes: int) -> dict[str, Any]:
    return {str(c): {"description": "problem+json", "content": {"application/problem+json": {"schema": _PROBLEM}}}
            for c in codes}


def document() -> dict[str, Any]:
    bearer = [{"device": []}]
    # Other versions answer 426; saying so lets a fuzzer's valid requests reach the batch.
    protocol = {"type": "integer", "enum": sorted(ACCEPTED_PROTOCOLS)}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Gridwalk sync API", "version": str(PROTOCOL),
                 "description": "Register a device, push mutations, pull changes. See docs/sync.md. Every call "
                                "with a device token may answer 401 device_unknown, 401 device_expired (no sync "
                                "for DEVICE_IDLE_DAYS: log in again online, the outbox is kept and pushed with "
                                "the new token), 401 user_inactive or 403 device_revoked."},
        "components": {
            "securitySchemes": {"device": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Problem": {"type": "object", "required": ["status", "code", "detail"], "properties": {
                    "status": {"type": "integer"}, "code": {"enum": sorted(REQUEST_ERRORS)},
                    "detail": {"type": "string"}},
                    "description": " ".join(f"{c} ({s}): {m}." for c, (s, m) in sorted(REQUEST_ERRORS.items()))},
                "Mutation": {"type": "object", "required": ["id", "seq", "type", "op", "record_id"], "properties": {
                    "id": {"type": "string", "format": "uuid", "description": "made on the phone: the idempotency key; "
                           "a fixed resubmission needs a new one (and a new seq)"},
                    "seq": {"type": "integer", "minimum": 1, "maximum": MAX_SEQ},
                    "type": _record_type(),
                    "op": {"enum": sorted(OPS)},
                    "record_id": {"type": "string", "format": "uuid", "description": "any UUID; version 7 "
                                  "(time-ordered, tests/vectors/ids.json) keeps a push's new rows together"},
                    "base_version": {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_INT32,
                                     "description": "null for a create; 0 for an edit of a record created on this "
                                                    "phone whose create is not answered yet"},
                    "fields": {"description": "Fields_<type>", "anyOf": [
                        {"$ref": f"#/components/schemas/Fields_{name}"} for name in RECORD_TYPES]},
                    "base": {"type": "object", "description": "the edited fields' values before the edit"},
                    "at": {"type": "string", "format": "date-time"}}},
                **_schemas(),
            },
        },
        "paths": {
            "/api/devices": {"post": {
                "summary": "Register this phone (log in once, online)",
                "description": "401 login_failed: wrong username or password (the same answer for an unknown "
                               "or disabled login). 429 too_many_attempts with Retry-After: too many failures "
                               "from this address, or on this username from this network. 403 role_no_device "
                               "(police, community reporters) or password_change_required (a temporary "
                               "password). 409 too_many_devices: the login already holds DEVICES_PER_USER live "
                               "tokens; send `replaces` when logging in again on the same phone.",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["username", "password"], "properties": {
                        "username": {"type": "string"}, "password": {"type": "string"},
                        "label": {"type": "string"}, "app_version": {"type": "string"},
                        "replaces": {"type": "string", "description": "this phone's current token, if it has "
                                     "one: revoked with this registration, before the cap is counted"}}}}}},
                "responses": {"201": {"description": "device id and token (shown once), the protocol, the user, "
                                                     "and `rescue_key` (as GET /api/rescue-key answers)"},
                              **_errors(400, 401, 403, 409, 415, 422, 429)}}},
            "/api/rescue-key": {"get": {
                "summary": "The server's public key a phone seals its rescue file to (docs/sync.md §6.1); no login",
                "responses": {"200": {"description": "the key", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["kid", "jwk"], "properties": {
                        "kid": {"type": "string", "description": "16 hex digits: the first 8 bytes of SHA-256 "
                                "of the key's uncompressed point"},
                        "jwk": {"type": "object", "description": "a P-256 public key as a JWK (kty, crv, x, y)"}}}}}}}}},
            "/api/devices/self/revoke": {"post": {
                "summary": "End this device's token (the phone logs out); again after that answers 200 too",
                "security": bearer,
                "responses": {"200": {"description": "device_id, revoked_at, already_revoked, pending (unsynced "
                                                     "mutations the device last reported)"},
                              **_errors(401)}}},
            "/api/sync/push": {"post": {
                "summary": "Send queued mutations; every one gets an outcome", "security": bearer,
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["protocol", "mutations"], "properties": {
                        "protocol": protocol, "app_version": {"type": "string"},
                        "clock": {"type": "string", "format": "date-time"}, "pending": {"type": "integer"},
                        "mutations": {"type": "array", "items": {"$ref": "#/components/schemas/Mutation"}},
                        "pull": {"type": "object", "description": "the pull that follows, answered under `pull` "
                                 "once the batch has committed (docs/sync.md §3)", "properties": {
                                     "cursor": {"type": ["string", "null"]},
                                     "limit": {"type": "integer", "minimum": 1, "maximum": PULL_LIMIT_MAX,
                                               "default": PULL_LIMIT_DEFAULT}}}}}}}},
                "parameters": [{"name": "Content-Encoding", "in": "header", "required": False,
                                "schema": {"enum": ["gzip", "deflate", "zstd", "br", "identity"]},
                                "description": "a compressed body expands to at most PUSH_MAX_EXPANDED_MB "
                                               "(413 body_too_large); gzip members and zstd frames "
                                               "in series are one body, bytes after its end or a cut "
                                               "body 400 invalid_encoding"}],
                "responses": {"200": {"description": "outcomes, in sequence order (zstd, br or gzip as accepted)",
                                      "content": {"application/json": {"schema": {
                                          "type": "object", "required": ["protocol", "last_seq", "outcomes"],
                                          "properties": {"protocol": {"type": "integer"}, "last_seq": {"type": "integer"},
                                                         "outcomes": {"type": "array", "items": {
                                                             "$ref": "#/components/schemas/Outcome"}},
                                                         "pull": {"$ref": "#/components/schemas/Page",
                                                                  "description": "when asked, and the cursor "
                                                                  "was accepted"}}}}}},
                              **_errors(400, 401, 403, 413, 415, 422, 426)}}},  # 400 protocol_unsupported
            "/api/sync/pull": {"get": {
                "summary": "Changes since a cursor, in commit order, for this device's cells", "security": bearer,
                "parameters": [
                    {"name": "protocol", "in": "query", "required": True, "schema": protocol},
                    {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": PULL_LIMIT_MAX,
                                                                 "default": PULL_LIMIT_DEFAULT}}],
                "responses": {"200": {"description": "a page of changes and evictions (zstd, br or gzip as "
                                                     "accepted); docs/sync.md §4",
                                      "content": {"application/json": {"schema": {
                                          "$ref": "#/components/schemas/Page"}}}},
                              **_errors(400, 401, 403, 422, 426)}}},
            "/api/openapi.json": {"get": {
                "summary": "This document", "responses": {"200": {"description": "OpenAPI 3.1"}}}},
            "/api/walk": {"get": {
                "summary": "Walking order of every house in the caller's cells (device token or console login)",
                "security": bearer,
                "parameters": [{"name": "cell", "in": "query", "schema": {"type": "string", "format": "uuid"}}],
                "responses": {"200": {"description": "cells: [{cell_id, total_m, houses: [house id, in walking order]}]"},
                              **_errors(401, 403, 404)}}},
        },
    }
