"""Field-level validation errors with Chinese and English messages."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class FieldError:
    """One problem with one field; `code` is stable and meant for machines and tests."""

    field: str
    code: str
    zh: str
    en: str

    def message(self, lang: str = "zh") -> str:
        """The message in `lang` (anything starting with "zh" is Chinese, else English)."""
        return self.zh if lang.startswith("zh") else self.en

    def as_dict(self) -> dict[str, str]:
        """A JSON-ready dict (for API answers and the field app)."""
        return asdict(self)


class ValidationError(ValueError):
    """Raised with every FieldError found; a ValueError so generic handlers still catch it."""

    def __init__(self, errors: FieldError | Iterable[FieldError]) -> None:
        self.errors: list[FieldError] = [errors] if isinstance(errors, FieldError) else list(errors)
        super().__init__("; ".join(f"{e.field}: {e.en}" for e in self.errors))

    @property
    def codes(self) -> list[str]:
        """The error codes, in order."""
        return [e.code for e in self.errors]


class Collector:
    """Validate several fields and raise once with all their errors (for forms and imports)."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def check(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T | None:
        """Call a parser; on ValidationError keep its errors and return None."""
        try:
            return fn(*args, **kwargs)
        except ValidationError as exc:
            self.errors.extend(exc.errors)
            return None

    def raise_if_any(self) -> None:
        """Raise one ValidationError carrying everything collected."""
        if self.errors:
            raise ValidationError(self.errors)


def fail(field: str, code: str, zh: str, en: str) -> ValidationError:
    """Build a single-error ValidationError (callers write `raise fail(...)`)."""
    return ValidationError(FieldError(field, code, zh, en))
