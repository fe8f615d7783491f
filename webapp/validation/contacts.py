"""A unit's contacts (`unit.contacts`, JSON): the shape every door stores and the console
reads, a list of a few people each with a name, a phone and a role, all text.

The column takes any JSON, and a push stored whatever a phone sent: a string, a list of
numbers, a nested object, or a name of 100,000 characters. The unit's console page, which
reads each contact's name, phone and role, then answered 500 for every user.
"""
from __future__ import annotations

from typing import Any

from webapp.validation.errors import FieldError
from webapp.validation.text import storable

MOST = 20  # contacts a unit lists: a shop's owner and manager, a factory's few offices
KEYS = {"name": 50, "phone": 32, "role": 50}  # the texts a contact has, and their longest


# The same shape as a JSON Schema, for docs/sync.md and /api/openapi.json (sync/reference.py).
SCHEMA: dict[str, Any] = {
    "type": ["array", "null"], "maxItems": MOST,
    "items": {"type": "object", "additionalProperties": False,
              "properties": {key: {"type": ["string", "null"], "maxLength": most} for key, most in KEYS.items()}}}


def contacts_problems(value: Any, field: str = "contacts") -> list[FieldError]:
    """The contacts' problems (none: they may be stored as they are); `value` None is none."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(c, dict) for c in value):
        return [FieldError(field, "field.type", f"{field} 应为联系人列表（姓名、电话、职务）",
                           f"{field} must be a list of contacts (name, phone, role)")]
    if len(value) > MOST:
        return [FieldError(field, "field.too_long", f"{field} 最多 {MOST} 人", f"{field} holds at most {MOST} contacts")]
    for contact in value:
        for key, text in contact.items():
            if key not in KEYS or not (text is None or isinstance(text, str)):
                return [FieldError(field, "field.type", f"{field} 的联系人只有姓名、电话、职务（文本）",
                                   f"{field}: a contact has only a name, a phone and a role, as text")]
            if not storable(text):
                return [FieldError(field, "field.characters", f"{field} 含有无法保存的字符",
                                   f"{field} contains characters that cannot be stored")]
            if text and len(text) > KEYS[key]:
                return [FieldError(field, "field.too_long", f"{field} 的{key}超过 {KEYS[key]} 个字符",
                                   f"{field}: a contact's {key} is longer than {KEYS[key]} characters")]
    return []
