"""Extensions, created unbound; `create_app` binds them."""
from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from webapp.models import Base

# The models live on a plain DeclarativeBase (no Flask); Flask-SQLAlchemy only manages
# the engine and the request-scoped session over the same metadata.
db = SQLAlchemy(metadata=Base.metadata)
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
