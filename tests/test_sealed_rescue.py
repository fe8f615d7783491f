"""The sealed rescue file (docs/sync.md §6.1, sync/sealed.py): the field app's outbox file,
sealed to the server's key, opened only at the centre's import. The field app's sealing is
held to the same vectors in the browser (tests/e2e/test_fieldapp_seal_vectors.py)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from sync import rescue, sealed
from tests.conftest import login
from tests.test_rescue import _upload, _visits, outbox, phone  # noqa: F401  (the phone fixture)
from webapp.models import AuditEntry

VECTORS = json.loads((Path(__file__).parent / "vectors" / "rescue_seal.json").read_text(encoding="utf-8"))
TEST_SECRET = "test-secret"  # config.TestConfig's


def _ephemeral(jwk: dict[str, str]) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int.from_bytes(sealed._unb64(jwk["d"]), "big"), ec.SECP256R1())


def test_the_server_key_and_a_sealed_file_are_the_vectors() -> None:
    key = sealed.server_key(VECTORS["secret_key"])
    assert key.public() == VECTORS["server"]
    doc = sealed.seal(VECTORS["plain"].encode(), key.jwk, key.kid, ephemeral=_ephemeral(VECTORS["ephemeral_jwk"]),
                      iv=sealed._unb64(VECTORS["iv"]))
    assert doc == VECTORS["sealed"]
    assert sealed.open_sealed(VECTORS["sealed"], key) == VECTORS["plain"].encode()


def test_each_file_draws_its_own_key_and_iv() -> None:
    key = sealed.server_key(VECTORS["secret_key"])
    one, two = (sealed.seal(b"same", key.jwk, key.kid) for _ in range(2))
    assert one["epk"] != two["epk"] and one["iv"] != two["iv"] and one["ciphertext"] != two["ciphertext"]
    assert sealed.open_sealed(one, key) == sealed.open_sealed(two, key) == b"same"


def _altered(change: Any) -> dict[str, Any]:
    doc = json.loads(json.dumps(VECTORS["sealed"]))
    change(doc)
    return doc


def _flip(text: str) -> str:
    raw = bytearray(sealed._unb64(text))
    raw[len(raw) // 2] ^= 1
    return sealed._b64(bytes(raw))


@pytest.mark.parametrize(("doc", "key_secret", "code"), [
    (VECTORS["sealed"], "another deployment's SECRET_KEY", "sealed.other_key"),
    (_altered(lambda d: d.update(ciphertext=_flip(d["ciphertext"]))), VECTORS["secret_key"], "sealed.damaged"),
    (_altered(lambda d: d.update(iv=_flip(d["iv"]))), VECTORS["secret_key"], "sealed.damaged"),
    (_altered(lambda d: d["epk"].update(x=_flip(d["epk"]["x"]))), VECTORS["secret_key"], "sealed.damaged"),  # off the curve
    (_altered(lambda d: d.update(ciphertext=d["ciphertext"][:-4])), VECTORS["secret_key"], "sealed.damaged"),
    (_altered(lambda d: d.pop("epk")), VECTORS["secret_key"], "sealed.damaged"),
    (_altered(lambda d: d.update(iv=7)), VECTORS["secret_key"], "sealed.damaged"),
    (_altered(lambda d: d.update(version=2)), VECTORS["secret_key"], "sealed.version"),
])
def test_a_file_for_another_key_or_altered_is_refused_with_a_reason(doc: dict[str, Any], key_secret: str, code: str) -> None:
    with pytest.raises(rescue.RescueInvalid) as refused:
        rescue.read_file(json.dumps(doc).encode(), [sealed.server_key(key_secret)])
    assert refused.value.code == code and refused.value.zh and refused.value.en


def test_a_sealed_file_needs_the_servers_key() -> None:
    with pytest.raises(rescue.RescueInvalid) as refused:
        rescue.read_file(json.dumps(VECTORS["sealed"]).encode())
    assert refused.value.code == "sealed.no_key"


def test_the_phone_is_given_the_key_it_seals_to(client, area) -> None:  # type: ignore[no-untyped-def]
    key = sealed.server_key(TEST_SECRET).public()
    answer = client.get("/api/rescue-key")
    assert answer.status_code == 200 and answer.get_json() == key
    registered = client.post("/api/devices", json={"username": "coord", "password": "pw", "label": "Redmi A",
                                                   "app_version": "test"})
    assert registered.status_code == 201 and registered.get_json()["rescue_key"] == key


def test_the_centre_imports_a_sealed_file(client, area, db_session, phone) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    key = sealed.server_key(TEST_SECRET)
    plain = json.dumps(outbox(area, phone), ensure_ascii=False).encode()
    body = json.dumps(sealed.seal(plain, key.jwk, key.kid)).encode()
    login(client, "centre")
    page = _upload(client, body, "gridwalk-outbox-20261207T010000.sealed.json").get_data(as_text=True)
    assert page.count(">applied<") == 2
    db_session.rollback()
    assert _visits(db_session) == 2
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "rescue_import"))
    assert entry is not None and entry.detail["sealed"] is True
    # Sealed to another deployment's key: refused at the field, nothing applied.
    other = sealed.server_key("another deployment's SECRET_KEY")
    refused = _upload(client, json.dumps(sealed.seal(plain, other.jwk, other.kid)).encode())
    assert refused.status_code == 422 and "另一把服务器密钥" in refused.get_data(as_text=True)


def test_a_file_sealed_before_secret_key_changed_opens_with_the_former_key_kept(app, client, area, db_session,  # type: ignore[no-untyped-def]
                                                                                 phone) -> None:  # noqa: F811
    former = sealed.server_key("the key before the change")
    body = json.dumps(sealed.seal(json.dumps(outbox(area, phone)).encode(), former.jwk, former.kid)).encode()
    login(client, "centre")
    assert _upload(client, body).status_code == 422  # a key no longer known
    app.config["SECRET_KEY_FALLBACKS"] = ["the key before the change"]
    assert _upload(client, body).get_data(as_text=True).count(">applied<") == 2
    db_session.rollback()
    assert _visits(db_session) == 2


def test_console_sessions_outlive_a_change_of_key_with_the_former_kept(app, client, area) -> None:  # type: ignore[no-untyped-def]
    """README: a former SECRET_KEY in SECRET_KEY_FALLBACKS keeps the sessions signed with it."""
    login(client, "centre")
    app.config["SECRET_KEY_FALLBACKS"] = [app.config["SECRET_KEY"]]
    app.config["SECRET_KEY"] = "the key after the change, long enough"
    assert client.get("/").status_code == 200
