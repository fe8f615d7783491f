from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import BooleanField

_TYPES = FileAllowed(["csv", "xlsx"], _l("CSV or XLSX files only."))


class ImportForm(FlaskForm):
    houses = FileField(_l("Houses"), validators=[_TYPES])
    units = FileField(_l("Units"), validators=[_TYPES])
    persons = FileField(_l("Persons"), validators=[_TYPES])
    residencies = FileField(_l("Residencies"), validators=[_TYPES])
    dry_run = BooleanField(_l("Check only, write nothing"), default=True)
