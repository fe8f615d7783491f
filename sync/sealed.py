"""The sealed rescue file (docs/sync.md §6.1): an outbox file only the server can open.

The outbox holds residents' numbers in clear, and the file leaves the app (Downloads, a chat,
a USB stick); so the field app seals it to the server's P-256 key (ECDH with a fresh key of
its own, HKDF-SHA256, AES-256-GCM), and the centre's import opens it here. The server's key
is derived from SECRET_KEY: every app server of a deployment holds the same one, and there is
nothing more to keep or back up. `seal` is the field app's sealing (static/pwa/seal.js) in
Python: the two are held to the same vectors (tests/vectors/rescue_seal.json).
"""
from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

FORMAT, VERSION = "gridwalk-rescue-sealed", 1
_KEY_INFO = b"gridwalk rescue key v1"
_FILE_INFO = b"gridwalk rescue file v1"
_CURVE_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551  # P-256's n


class SealError(ValueError):
    """A sealed file that cannot be opened: a reason in Chinese and English."""

    def __init__(self, code: str, zh: str, en: str) -> None:
        super().__init__(f"{en} / {zh}")
        self.code, self.zh, self.en = code, zh, en


@dataclass(frozen=True)
class ServerKey:
    private: ec.EllipticCurvePrivateKey
    kid: str
    jwk: dict[str, str]

    def public(self) -> dict[str, Any]:
        """What phones are given (GET /api/rescue-key, the registration's answer)."""
        return {"kid": self.kid, "jwk": self.jwk}


@lru_cache(maxsize=4)
def server_key(secret: str) -> ServerKey:
    scalar = _hkdf(secret.encode("utf-8"), _KEY_INFO, 48)
    private = ec.derive_private_key(int.from_bytes(scalar, "big") % (_CURVE_ORDER - 1) + 1, ec.SECP256R1())
    return ServerKey(private, kid_of(private.public_key()), jwk_of(private.public_key()))


def kid_of(public: ec.EllipticCurvePublicKey) -> str:
    return hashlib.sha256(public.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)).hexdigest()[:16]


def jwk_of(public: ec.EllipticCurvePublicKey) -> dict[str, str]:
    numbers = public.public_numbers()
    return {"kty": "EC", "crv": "P-256", "x": _b64(numbers.x.to_bytes(32, "big")), "y": _b64(numbers.y.to_bytes(32, "big"))}


def is_sealed(document: Any) -> bool:
    return isinstance(document, dict) and document.get("format") == FORMAT


def seal(plain: bytes, jwk: dict[str, str], kid: str, *, ephemeral: ec.EllipticCurvePrivateKey | None = None,
         iv: bytes | None = None) -> dict[str, Any]:
    """`plain` sealed to the key `jwk` (fresh ephemeral key and iv unless given: vectors)."""
    ephemeral = ephemeral or ec.generate_private_key(ec.SECP256R1())
    iv = iv if iv is not None else os.urandom(12)
    key = _file_key(ephemeral, _public_of(jwk))
    ciphertext = AESGCM(key).encrypt(iv, plain, _aad(kid))
    return {"format": FORMAT, "version": VERSION, "kid": kid, "epk": jwk_of(ephemeral.public_key()),
            "iv": _b64(iv), "ciphertext": _b64(ciphertext)}


def open_sealed(document: dict[str, Any], key: ServerKey) -> bytes:
    """The plain rescue file's bytes inside `document` (read as any file is: sync/rescue.py),
    or SealError."""
    if document.get("version") != VERSION:
        raise SealError("sealed.version", "此加密文件的格式版本无法识别，请更新系统后再导入",
                        "this sealed file's version is unknown: update the server, then import it")
    if document.get("kid") != key.kid:
        raise SealError("sealed.other_key", "此文件是用另一把服务器密钥加密的（SECRET_KEY 已更换？请把原密钥加入 "
                        "SECRET_KEY_FALLBACKS），无法打开", "this file was sealed to another server key (was SECRET_KEY "
                        "changed? add the former one to SECRET_KEY_FALLBACKS) and cannot be opened")
    try:
        ephemeral = _public_of(document["epk"])
        iv, ciphertext = _unb64(document["iv"]), _unb64(document["ciphertext"])
        return AESGCM(_file_key(key.private, ephemeral)).decrypt(iv, ciphertext, _aad(key.kid))
    except (KeyError, TypeError, ValueError, InvalidTag):
        raise SealError("sealed.damaged", "此加密文件已损坏或被改动，无法打开",
                        "this sealed file is damaged or was altered, and cannot be opened") from None


def _file_key(private: ec.EllipticCurvePrivateKey, public: ec.EllipticCurvePublicKey) -> bytes:
    return _hkdf(private.exchange(ec.ECDH(), public), _FILE_INFO, 32)


def _hkdf(material: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(material)


def _public_of(jwk: Any) -> ec.EllipticCurvePublicKey:
    if not isinstance(jwk, dict) or jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise ValueError("not a P-256 public key")
    x, y = (int.from_bytes(_unb64(jwk[c]), "big") for c in ("x", "y"))
    return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()  # checks the point is on the curve


def _aad(kid: str) -> bytes:
    return f"{FORMAT}/{VERSION}/{kid}".encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise ValueError("not base64url text")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
