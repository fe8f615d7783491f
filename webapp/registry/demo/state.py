"""The generator's state, shared by every stage, and the small draws they all use."""
from __future__ import annotations

import math
import random
import uuid
from collections import Counter
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy.orm import Session

from webapp.base.ids import uuid7
from webapp.registry.demo.grid import _Layout
from webapp.registry.demo.records import _Cell, _House
from webapp.registry.demo.reference import REFERENCE_DATE
from webapp.registry.demo.vocabulary import (
    _GIVEN,
    _PHONE_PREFIXES,
    _SURNAME_WEIGHTS,
    _SURNAMES,
    _SURNAMES_LOCAL,
)
from webapp.registry.demo.writer import Progress, _Writer
from webapp.validation import ALPHABET, HOUSE_BODY_LEN, make_house_code


_EPOCH_MS = int(datetime.combine(REFERENCE_DATE, time(), timezone.utc).timestamp() * 1000)


class _State:
    """One run: a single seeded Random and what earlier stages produced for later ones."""

    def __init__(
        self, session: Session, scale: float, seed: int, password_hash: str,
        progress: Progress | None,
    ) -> None:
        self.session = session
        self.scale, self.seed = scale, seed
        self.password_hash = password_hash
        self.rng = random.Random(seed)
        self.out = _Writer(session, progress)
        self.layout = _Layout.for_scale(scale)
        self.committees: list[tuple[uuid.UUID, str]] = []
        self.cells: list[_Cell] = []
        self.houses: list[_House] = []
        self.units: list[uuid.UUID] = []  # employers (enterprises and shops)
        self.dorm_employer: dict[tuple[str, str], uuid.UUID] = {}
        self.logins: list[tuple[str, str, str, str]] = []
        self.used_ids: set[str] = set()
        self.used_names: set[str] = set()
        self.lane_counter: Counter[str] = Counter()
        self.code_perm = self._permutation(31**HOUSE_BODY_LEN)
        self.ext_perm = self._permutation(10**10)
        self.codes_issued = 0
        self.counties: dict[str, list[str]] = {}
        self.commercial: list[_House] = []
        self.residential: list[_House] = []
        self.user_count = 0
        self.ids_made = 0

    # -- small helpers --

    def new_id(self) -> uuid.UUID:
        # Version 7, as the app makes them (webapp/base/ids.py), yet reproducible: the seeded
        # draw for the random bits and, for the clock, a millisecond per record counted from
        # the reference date, so records are numbered in the order they were generated.
        self.ids_made += 1
        return uuid7(_EPOCH_MS + self.ids_made, self.rng.getrandbits(128).to_bytes(16, "big"))

    def _permutation(self, modulus: int) -> tuple[int, int, int]:
        """An affine bijection on [0, modulus): distinct inputs give distinct, random-looking codes."""
        while True:
            mult = self.rng.randrange(modulus // 7, modulus)
            if math.gcd(mult, modulus) == 1:
                return mult, self.rng.randrange(modulus), modulus

    @staticmethod
    def _apply(perm: tuple[int, int, int], n: int) -> int:
        mult, offset, modulus = perm
        return (n * mult + offset) % modulus

    def plate_code(self) -> str:
        n = self._apply(self.code_perm, self.codes_issued)
        self.codes_issued += 1
        digits = []
        for _ in range(HOUSE_BODY_LEN):
            n, r = divmod(n, 31)
            digits.append(ALPHABET[r])
        return make_house_code("".join(reversed(digits)))

    def phone(self) -> str:
        return self.rng.choice(_PHONE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def chinese_name(self, sex: str, born: int, local: bool = False, surname: str | None = None) -> str:
        rng = self.rng
        if surname is None:
            surnames = _SURNAMES_LOCAL if local and rng.random() < 0.7 else _SURNAMES
            surname = rng.choices(surnames, cum_weights=_SURNAME_WEIGHTS[surnames])[0]
        era = "old" if born < 1975 else "new" if born >= 1995 else rng.choice(("old", "new"))
        pool = _GIVEN[(sex, era)]
        given = rng.choice(pool) + (rng.choice(pool) if rng.random() < 0.7 else "")
        return surname + given

    def birth_date(self, age: int) -> date:
        age = max(0, min(age, 95))
        days = age * 365 + self.rng.randrange(1, 365)
        return REFERENCE_DATE - timedelta(days=days)

    def days_ago(self, lo: int, hi: int) -> date:
        return REFERENCE_DATE - timedelta(days=self.rng.randint(lo, hi))
