"""The one place that checks identity numbers and codes (pure Python: no Flask, no SQLAlchemy).

Every parser returns the normalised value or raises `ValidationError`, whose `errors` are
`FieldError`s with a stable `code` and Chinese and English messages. The same rules are
tested against `tests/vectors/validation.json`, which the field app shares.
"""
from webapp.validation.area_codes import (
    AreaDataError,
    area_full_name,
    area_name,
    county_choices,
    county_codes,
    is_current_area_code,
    is_known_area_code,
    parse_region,
)
from webapp.validation.codes import (
    ALPHABET,
    HOUSE_BODY_LEN,
    HOUSE_CODE_LEN,
    TEMP_CODE_LEN,
    TEMP_PREFIX,
    house_check_char,
    is_temp_house_code,
    make_house_code,
    make_temp_house_code,
    DEFAULT_AREA_CODE,
    area_code_length,
    parse_house_code,
    parse_landline,
    parse_mobile,
    parse_uscc,
    uscc_check_char,
)
from webapp.validation.errors import Collector, FieldError, ValidationError
from webapp.validation.ids import (
    MIN_BIRTH_YEAR,
    IdResult,
    IdType,
    check_char_gb11643,
    mask_id,
    mask_phone,
    parse_person_id,
    shanghai_today,
)

__all__ = [
    "ALPHABET",
    "HOUSE_BODY_LEN",
    "HOUSE_CODE_LEN",
    "MIN_BIRTH_YEAR",
    "TEMP_CODE_LEN",
    "TEMP_PREFIX",
    "AreaDataError",
    "Collector",
    "FieldError",
    "IdResult",
    "IdType",
    "ValidationError",
    "area_full_name",
    "area_name",
    "check_char_gb11643",
    "DEFAULT_AREA_CODE",
    "area_code_length",
    "county_choices",
    "county_codes",
    "house_check_char",
    "is_current_area_code",
    "is_known_area_code",
    "is_temp_house_code",
    "make_house_code",
    "make_temp_house_code",
    "mask_id",
    "mask_phone",
    "parse_house_code",
    "parse_landline",
    "parse_mobile",
    "parse_region",
    "parse_person_id",
    "parse_uscc",
    "shanghai_today",
    "uscc_check_char",
]
