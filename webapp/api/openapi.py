"""The sync API described as OpenAPI 3.1 (served at /api/openapi.json); docs/sync.md explains it."""
from __future__ import annotations

from typing import Any

from sync.batch import ACCEPTED_PROTOCOLS, MAX_SEQ, PROTOCOL

_PROBLEM = {"$ref": "#/components/schemas/Problem"}


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
                    "status": {"type": "integer"}, "code": {"type": "string"}, "detail": {"type": "string"}}},
                "Mutation": {"type": "object", "required": ["id", "seq", "type", "op", "record_id"], "properties": {
                    "id": {"type": "string", "format": "uuid"}, "seq": {"type": "integer", "minimum": 1, "maximum": MAX_SEQ},
                    "type": {"enum": ["house", "house_code", "house_flag", "room", "unit", "person", "residency", "visit", "tip",
                                      "review"]},
                    "op": {"enum": ["create", "update", "delete"]},
                    "record_id": {"type": "string", "format": "uuid"},
                    "base_version": {"type": ["integer", "null"]},
                    "fields": {"type": "object"}, "base": {"type": "object"},
                    "at": {"type": "string", "format": "date-time"}}},
                "Outcome": {"type": "object", "required": ["id", "seq", "status"], "properties": {
                    "id": {"type": "string"}, "seq": {"type": "integer"},
                    "status": {"enum": ["applied", "merged", "already_applied", "rejected", "blocked", "conflict"]},
                    "errors": {"type": "array", "items": {"type": "object"}},
                    "conflict_id": {"type": "string"}, "blocked_by": {"type": "string"},
                    "canonical_id": {"type": "string"}, "version": {"type": "integer"}}},
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
                "responses": {"201": {"description": "device id and token (shown once)"},
                              **_errors(400, 401, 403, 409, 415, 422, 429)}}},
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
                        "mutations": {"type": "array", "items": {"$ref": "#/components/schemas/Mutation"}}}}}}},
                "responses": {"200": {"description": "outcomes, in sequence order"},
                              **_errors(400, 401, 403, 413, 415, 422, 426)}}},  # 400 protocol_unsupported
            "/api/sync/pull": {"get": {
                "summary": "Changes since a cursor, in commit order, for this device's cells", "security": bearer,
                "parameters": [
                    {"name": "protocol", "in": "query", "required": True, "schema": protocol},
                    {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 10000}}],
                "responses": {"200": {"description": "a page of changes and evictions"},
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
