"""What a new password must be: long enough, not one of the most common, not the username.

Checked wherever a password is chosen (/account, the centre's reset, `flask create-user`, the
demo seed); never at login, so an old password keeps working until it is changed. No Flask:
the messages come in both languages and the caller picks one.

The common passwords are zxcvbn's bundled list (30,000 from public leaks, pinned in
requirements.txt, read from the installed package: nothing is fetched at run time), plus a
few Chinese favourites of ten characters or more that the English-language list misses.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

MIN_LENGTH = 10
MAX_LENGTH = 200  # the login form's limit
# From the published top lists of Chinese leaks; the shorter ones fail on length already.
CHINESE_FAVOURITES = frozenset({
    "woaini1314", "woaini520", "5201314520", "1314520520", "5201314000", "woaiwojia", "iloveyou1314",
    "abcd123456", "aa12345678", "abc1234567", "0123456789", "9876543210", "1111111111", "0000000000",
    "8888888888", "6666666666", "1234512345", "1357924680", "qweasdzxc123", "zhang123456", "wang123456",
    "li123456789", "asd123456789", "qwe1234567",
})


@dataclass(frozen=True)
class Weakness:
    code: str
    en: str
    zh: str

    def text(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """Loaded once, when first needed (about 30 ms)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"]) | CHINESE_FAVOURITES


def weaknesses(password: str, username: str, published: tuple[str, ...] = ()) -> list[Weakness]:
    """Why `password` may not be chosen by `username`; empty when it may. `published` are
    passwords printed somewhere (the demo logins' in the README): refused like common ones."""
    found: list[Weakness] = []
    if len(password) < MIN_LENGTH:
        found.append(Weakness("too_short", f"Use at least {MIN_LENGTH} characters.",
                              f"密码至少需要 {MIN_LENGTH} 个字符。"))
    if len(password) > MAX_LENGTH:
        found.append(Weakness("too_long", f"Use at most {MAX_LENGTH} characters.",
                              f"密码最多 {MAX_LENGTH} 个字符。"))
    if found:
        return found  # the length first: a short password's other faults do not matter yet
    folded = password.strip().casefold()
    if folded == username.strip().casefold():
        found.append(Weakness("is_username", "The password must not be the username.", "密码不能与用户名相同。"))
    elif folded in common_passwords() or folded in {p.casefold() for p in published}:
        found.append(Weakness("common", "This password is among the most common ones (or published): "
                                        "choose one that is hard to guess.",
                              "该密码属于最常见（或已公开）的密码，请换一个不易猜到的密码。"))
    return found


def describe(found: list[Weakness], lang: str) -> str:
    return " ".join(w.text(lang) for w in found)
