"""Correction forms. Validation of IDs, phones and codes is `webapp.validation`'s, not ours."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, FloatField, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from webapp import validation
from webapp.form_days import plausible_day
from webapp.validation import ranges
from webapp.models import enums
from webapp.templating import bilingual, lang


def _raise_first(error: validation.ValidationError) -> None:
    raise ValidationError(bilingual(error.errors[0]))


class VersionedForm(FlaskForm):
    # The version the user started editing; a different one on save means someone else won.
    version = HiddenField()


class HouseForm(VersionedForm):
    road = StringField(_l("Road"), validators=[DataRequired(), Length(max=64)])
    number = StringField(_l("Number"), validators=[DataRequired(), Length(max=16)])
    building = StringField(_l("Building"), validators=[Optional(), Length(max=16)])
    unit = StringField(_l("Unit"), validators=[Optional(), Length(max=16)])
    floor = IntegerField(_l("Floor"), validators=[Optional(), NumberRange(*ranges.FLOOR)])
    room = StringField(_l("Room"), validators=[Optional(), Length(max=16)])
    use = SelectField(_l("Use"))
    floor_area = FloatField(_l("Floor area (m²)"), validators=[Optional(), NumberRange(*ranges.AREA_M2)])
    living_area = FloatField(_l("Living area (m²)"), validators=[Optional(), NumberRange(*ranges.AREA_M2)])
    lon = FloatField(_l("Longitude"), validators=[Optional(), NumberRange(*ranges.LON)])
    lat = FloatField(_l("Latitude"), validators=[Optional(), NumberRange(*ranges.LAT)])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.use.choices = enums.HouseUse.choices(lang())

    def validate_living_area(self, field: FloatField) -> None:
        if field.data is not None and self.floor_area.data is not None and field.data > self.floor_area.data:
            raise ValidationError(str(_l("Living area cannot exceed floor area.")))


class PersonForm(VersionedForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=64)])
    id_type = SelectField(_l("ID type"))
    id_number = StringField(_l("ID number"), validators=[DataRequired(), Length(max=32)])
    phone = StringField(_l("Mobile phone"), validators=[Optional(), Length(max=20)])
    landline = StringField(_l("Fixed-line phone"), validators=[Optional(), Length(max=20)])
    phone_status = SelectField(_l("Without a number"), validators=[Optional()])
    category = SelectField(_l("Category"))
    # The structured hukou address: the region picked from the GB/T 2260 list, never typed.
    hukou_region = SelectField(_l("Hukou district"), validators=[Optional()])
    hukou_road = StringField(_l("Hukou road"), validators=[Optional(), Length(max=64)])
    hukou_number = StringField(_l("Hukou number (lane, 号)"), validators=[Optional(), Length(max=16)])
    hukou_building = StringField(_l("Hukou building"), validators=[Optional(), Length(max=16)])
    hukou_room = StringField(_l("Hukou room"), validators=[Optional(), Length(max=16)])
    hukou_address = StringField(_l("Hukou address as written"), validators=[Optional(), Length(max=200)])
    permit_number = StringField(_l("Residence permit number"), validators=[Optional(), Length(max=32)])
    permit_issued = DateField(_l("Residence permit issued on"), validators=[Optional(), plausible_day])
    permit_expiry = DateField(_l("Residence permit expiry"), validators=[Optional(), plausible_day])
    employer_unit_id = SelectField(_l("Employer"), validators=[Optional()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])

    parsed_id: validation.IdResult | None = None
    parsed_phone: str | None = None
    parsed_landline: str | None = None

    def __init__(self, *args: Any, landline_area: str = validation.DEFAULT_AREA_CODE,
                 employers: list[tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.landline_area = landline_area
        self.id_type.choices = validation.IdType.choices(lang())  # the one list: webapp/validation/ids.py
        self.category.choices = enums.PersonCategory.choices(lang())
        self.phone_status.choices = [("", str(_l("(a number is given)")))] + enums.PhoneStatus.choices(lang())
        self.hukou_region.choices = region_choices()
        self.employer_unit_id.choices = [("", str(_l("(none recorded)")))] + (employers or [])
        if self.employer_unit_id.data is not None:
            self.employer_unit_id.data = str(self.employer_unit_id.data)

    def validate_landline(self, field: StringField) -> None:
        if field.data:
            try:
                self.parsed_landline = validation.parse_landline(field.data, default_area=self.landline_area)
            except validation.ValidationError as error:
                _raise_first(error)

    def validate_hukou_region(self, field: SelectField) -> None:
        if field.data:
            try:
                validation.parse_region(field.data)
            except validation.ValidationError as error:
                _raise_first(error)

    def validate_permit_expiry(self, field: DateField) -> None:
        if field.data and self.permit_issued.data and self.permit_issued.data >= field.data:
            raise ValidationError(str(_l("The expiry must be after the issue date.")))

    def validate_id_number(self, field: StringField) -> None:
        try:
            self.parsed_id = validation.parse_person_id(field.data, self.id_type.data, field="id_number")
        except validation.ValidationError as error:
            _raise_first(error)

    def validate_phone(self, field: StringField) -> None:
        if field.data:
            try:
                self.parsed_phone = validation.parse_mobile(field.data, field="phone")
            except validation.ValidationError as error:
                _raise_first(error)


def region_choices() -> dict[str, list[tuple[str, str]]]:
    """Counties grouped by province (a select's optgroups), after an empty choice."""
    return {"": [("", str(_l("(choose the district or county)")))], **dict(validation.county_choices())}


class EndorsementForm(FlaskForm):
    """A yearly endorsement (签注) done at the office or seen on the card: its date."""

    endorsed_on = DateField(_l("Endorsed on"), validators=[DataRequired(), plausible_day])

    def validate_endorsed_on(self, field: DateField) -> None:
        from webapp.base.timeutil import local_today

        if field.data and field.data > local_today():
            raise ValidationError(str(_l("An endorsement cannot be dated in the future.")))
