"""How large an extract file may be, and the refusals that say it was larger.

Settings EXTRACT_MAX_ROWS and EXTRACT_MAX_EXPANDED_MB. A caller with an app wraps each file
as `Capped(file, ExtractLimits.from_config(app.config))`; a bare file is read under the
defaults of `config.Config` (the same environment variables), so no file is ever read
uncapped. No Flask here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from webapp.base import plain_settings
from webapp.registry.extract.report import ImportReport, _ferr
from webapp.validation import FieldError

# Refusals for size, not for content: the web upload answers them 413, not 422.
TOO_LARGE = "file.too_large"
TOO_MANY_ROWS = "file.too_many_rows"


@dataclass(frozen=True)
class ExtractLimits:
    # A large Shanghai town holds a few hundred thousand residents; one file per shape.
    extract_max_rows: int = 500_000
    # Expanded (uncompressed) size of all an XLSX's parts; a subdistrict's is about 10 MB.
    extract_max_expanded_mb: int = 200

    def __post_init__(self) -> None:
        # Refuse a bad value when first used rather than read every upload uncapped.
        for name in ("extract_max_rows", "extract_max_expanded_mb"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name.upper()} must be a positive number, not {getattr(self, name)}")

    @classmethod
    def from_config(cls, cfg: Any) -> ExtractLimits:
        """From a mapping (app.config) or an object with attributes (the Config class)."""
        return plain_settings.from_config(cls, cfg)

    @property
    def max_expanded_bytes(self) -> int:
        return self.extract_max_expanded_mb << 20


def default_limits() -> ExtractLimits:
    return plain_settings.from_defaults(ExtractLimits)


@dataclass(frozen=True)
class Capped:
    """A file to import and the caps to read it under."""

    source: Any
    limits: ExtractLimits


class Refusal(Exception):
    """The file is not read any further: too large, or not what it claims to be."""

    def __init__(self, error: FieldError) -> None:
        super().__init__(error.en)
        self.error = error


def too_many_rows(limits: ExtractLimits) -> FieldError:
    n = limits.extract_max_rows
    return _ferr("file", TOO_MANY_ROWS, f"文件超过{n}行的上限，未导入任何数据；请拆分文件",
                 f"The file has more than {n:,} rows, the limit; nothing was imported. Split the file")


def expands_too_far(limits: ExtractLimits) -> FieldError:
    mb = limits.extract_max_expanded_mb
    return _ferr("file", TOO_LARGE, f"Excel文件解压后超过{mb} MB的上限，未导入任何数据；请拆分文件或另存为CSV",
                 f"The Excel file expands to more than {mb} MB, the limit; nothing was imported. "
                 "Split it or save it as CSV")


def part_too_large(zh: str, en: str, size: str) -> FieldError:
    """A part of an XLSX beyond one of the reader's fixed sizes (see xlsx_guard)."""
    return _ferr("file", TOO_LARGE, f"Excel文件中{zh}超过{size}的上限（可能是压缩炸弹），未导入任何数据；请另存为CSV",
                 f"In the Excel file, {en} exceeds {size}, the limit (possibly a zip bomb); nothing was "
                 "imported. Save it as CSV")


def unreadable(zh: str, en: str) -> FieldError:
    return _ferr("file", "file.xlsx", f"无法读取Excel文件：{zh}", f"Cannot read the Excel file: {en}")


def too_large(report: ImportReport) -> bool:
    """Whether the report refuses a file for its size (rather than for its content)."""
    return any(e.code in (TOO_LARGE, TOO_MANY_ROWS) for issue in report.errors for e in issue.errors)
