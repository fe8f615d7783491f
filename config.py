"""Settings, read from the environment once at start-up.

Every setting is listed in the README's table; keep the two in step.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if not raw:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Defaults for `make run` on a laptop: SQLite under instance/, demo data allowed."""

    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
    # Former keys, separated by spaces, while they are still needed after a change of
    # SECRET_KEY: Flask still accepts console sessions signed with them, the console's search
    # still opens the addresses it sealed (webapp/base/sealed_query.py), and the centre's
    # import still opens rescue files phones sealed to their keys (docs/sync.md §6.1).
    SECRET_KEY_FALLBACKS = os.environ.get("SECRET_KEY_FALLBACKS", "").split()
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'gridwalk.sqlite3'}"
    )
    # Parameters hidden from the text of every database error: they are the values written
    # (ID numbers, phones), and that text goes to the logs (webapp/base/dberrors.py).
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True, "hide_parameters": True}
    # One request computes at a time in each worker, its body read before and its answer sent
    # after (webapp/base/gate.py). Unset: on for SQLite (open-model load: 170–185 instead of
    # 140 syncs/s on two cores), off for PostgreSQL (threads overlap its round trips).
    ONE_REQUEST_AT_A_TIME = (_env_bool("ONE_REQUEST_AT_A_TIME", False)
                             if os.environ.get("ONE_REQUEST_AT_A_TIME") else None)
    # Milliseconds a SQLite writer waits for another worker's lock before failing.
    SQLITE_BUSY_TIMEOUT_MS = _env_int("SQLITE_BUSY_TIMEOUT_MS", 10_000)
    # How often a thread per worker checkpoints SQLite's write-ahead log, so that no commit
    # pays for it (webapp/base/checkpoint.py); 0: the commit that fills it does, as SQLite would.
    SQLITE_CHECKPOINT_MS = _env_int("SQLITE_CHECKPOINT_MS", 1000)

    # The zone dates are shown in (console, field app); storage is always UTC. The server's own
    # calendar is Asia/Shanghai's whatever this says (webapp/base/timeutil.py LOCAL_TZ).
    TIMEZONE = os.environ.get("TIMEZONE", "Asia/Shanghai")
    BABEL_DEFAULT_LOCALE = os.environ.get("DEFAULT_LOCALE", "zh_CN")
    LANGUAGES = ("zh_CN", "en")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    # A console session ends this long after login whatever happens (checked on every request,
    # webapp/auth/sessions.py), and after SESSION_IDLE_S without a request.
    PERMANENT_SESSION_LIFETIME = _env_int("SESSION_LIFETIME_S", 12 * 3600)
    SESSION_IDLE_S = _env_int("SESSION_IDLE_S", 30 * 60)
    # A form's token lasts as long as the session it belongs to (Flask-WTF's own default is an
    # hour): the console's search box posts, and a page left open beside other work answered
    # "this form has expired" to the next search, and lost what was typed into any other form.
    WTF_CSRF_TIME_LIMIT = PERMANENT_SESSION_LIFETIME
    # How long a browser that reached the app over HTTPS must use nothing else (HSTS): a phone or
    # office PC on a hostile Wi-Fi is not sent to a plain-HTTP copy of the login. Only answers
    # over HTTPS carry it (behind a proxy, with PROXY_COUNT set); 0 sends none.
    HSTS_MAX_AGE_S = _env_int("HSTS_MAX_AGE_S", 365 * 24 * 3600)
    # Number of proxies in front of the app whose X-Forwarded-* headers are trusted.
    PROXY_COUNT = _env_int("PROXY_COUNT", 0)
    MAX_CONTENT_LENGTH = _env_int("MAX_UPLOAD_MB", 50) * 1024 * 1024
    # An extract file (web or CLI) is refused beyond this many rows, and an XLSX beyond this
    # size expanded: a small upload can unzip to gigabytes (webapp/registry/extract/limits.py).
    EXTRACT_MAX_ROWS = _env_int("EXTRACT_MAX_ROWS", 500_000)
    EXTRACT_MAX_EXPANDED_MB = _env_int("EXTRACT_MAX_EXPANDED_MB", 200)

    # Base URL printed in plate QR codes (…/h/<house code>). Unset, it is where `make run`
    # serves (HOST, PORT): a plate must not lead to a port nothing listens on.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL") or \
        f"http://{os.environ.get('HOST') or '127.0.0.1'}:{os.environ.get('PORT') or '5000'}"

    # PIPL art. 47: a tombstone keeps only id and version after this many days.
    TOMBSTONE_RETENTION_DAYS = _env_int("TOMBSTONE_RETENTION_DAYS", 180)
    # Failed logins on one account from one client network (IPv6 /64) before that network must
    # wait before its next try on that account: 1 s, then twice as long after each further
    # failure, at most LOGIN_ACCOUNT_MAX_DELAY_S (webapp/auth/delays.py). Not a lock of the
    # account: the same account from another network (the centre's office) is not delayed.
    LOGIN_ACCOUNT_FREE_FAILURES = _env_int("LOGIN_ACCOUNT_FREE_FAILURES", 5)
    LOGIN_ACCOUNT_MAX_DELAY_S = _env_int("LOGIN_ACCOUNT_MAX_DELAY_S", 15 * 60)
    # Failed logins from one client address (any account) per fixed window, counted in the
    # database for every worker (webapp/auth/throttle.py); the window is at most two days.
    LOGIN_FAILURES_PER_IP = _env_int("LOGIN_FAILURES_PER_IP", 20)
    LOGIN_IP_WINDOW_S = _env_int("LOGIN_IP_WINDOW_S", 15 * 60)
    PASSWORD_HASH_METHOD = "scrypt"

    ALLOW_DEMO_DATA = _env_bool("ALLOW_DEMO_DATA", True)
    DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "gridwalk-demo")
    SEARCH_PAGE_SIZE = _env_int("SEARCH_PAGE_SIZE", 50)

    # Maps and coverage (geo/). No background tiles by default: the app must work on a closed
    # network. Coordinates are stored in WGS-84; "gcj02" tiles (Amap/Tencent) get shifted
    # positions for drawing only.
    MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "")
    MAP_TILE_CRS = os.environ.get("MAP_TILE_CRS", "wgs84")
    MAP_TILE_ATTRIBUTION = os.environ.get("MAP_TILE_ATTRIBUTION", "")
    # Tiles of a phone's cells (zoom 15–18) kept for offline use, at most this many MB per phone.
    MAP_TILE_CACHE_MB = _env_int("MAP_TILE_CACHE_MB", 30)
    COLLECTION_CYCLE = os.environ.get("COLLECTION_CYCLE", "month")  # month or quarter
    # A visit's GPS may be this far beyond its reported accuracy (indoor GPS is often 50 m off).
    VISIT_GPS_MARGIN_M = float(os.environ.get("VISIT_GPS_MARGIN_M") or 50)
    WALKING_SPEED_KMH = float(os.environ.get("WALKING_SPEED_KMH") or 6)
    # Doors of one building this close count as no walk (entrances side by side, stairs).
    WALKING_SAME_BUILDING_M = float(os.environ.get("WALKING_SAME_BUILDING_M") or 30)
    # Cell import refuses larger cells (a typo in a coordinate makes a huge polygon) and
    # ignores overlaps and gaps smaller than the tolerance (rounding slivers).
    CELL_MAX_AREA_KM2 = float(os.environ.get("CELL_MAX_AREA_KM2") or 5)
    CELL_OVERLAP_TOLERANCE_M2 = float(os.environ.get("CELL_OVERLAP_TOLERANCE_M2") or 1)
    TESTING = False

    # The public plate page (/h/<code>) shows the address and these public facts only.
    PUBLIC_SERVICE_PHONE = os.environ.get("PUBLIC_SERVICE_PHONE", "")
    PUBLIC_NOTICE = os.environ.get("PUBLIC_NOTICE", "")
    # Residents' declarations from that page (tasks), counted in the database so every worker
    # shares them: tight per plate (house), loose per client address (carriers put many phones
    # behind one). The TIP_LIMIT_* names of before the rename to task (issue 20) still count,
    # so that a deployment's settings keep working.
    TASK_LIMIT_PER_PLATE = _env_int("TASK_LIMIT_PER_PLATE", _env_int("TIP_LIMIT_PER_PLATE", 5))
    TASK_LIMIT_PER_IP = _env_int("TASK_LIMIT_PER_IP", _env_int("TIP_LIMIT_PER_IP", 60))
    TASK_LIMIT_WINDOW_S = _env_int("TASK_LIMIT_WINDOW_S", _env_int("TIP_LIMIT_WINDOW_S", 3600))
    # The device list flags phones holding unsynced work that have not pushed for this long.
    STALE_DEVICE_DAYS = _env_int("STALE_DEVICE_DAYS", 3)
    # A phone's token expires after this many days without a sync (sync/devices.py); a user
    # holds at most DEVICES_PER_USER live (neither revoked nor expired) tokens.
    DEVICE_IDLE_DAYS = _env_int("DEVICE_IDLE_DAYS", 30)
    # Sync protocol 1 (the app before 0.7) stays served this many days after the server first
    # spoke protocol 2: an app updates only when its user taps 更新 (sync/protocol.py).
    PROTOCOL_PREVIOUS_DAYS = _env_int("PROTOCOL_PREVIOUS_DAYS", 90)
    # A push body compressed by the phone is expanded at most to this (413 body_too_large past it).
    PUSH_MAX_EXPANDED_MB = _env_int("PUSH_MAX_EXPANDED_MB", 16)
    DEVICES_PER_USER = _env_int("DEVICES_PER_USER", 2)

    # Registry rules (webapp/registry/rules). Shanghai's rental rules (2014, check): at most
    # 2 persons per let room unless one household, at least 5 m² living area per person;
    # a landlord letting ≥ 10 rooms or to ≥ 15 occupants keeps an occupant register.
    ROOM_MAX_PERSONS = _env_int("ROOM_MAX_PERSONS", 2)
    MIN_LIVING_AREA_PER_PERSON_M2 = float(os.environ.get("MIN_LIVING_AREA_PER_PERSON_M2") or 5)
    # Over which the 5 m² is counted: the whole dwelling's living area ("house", as the rule is
    # commonly read) or each let room's ("room").
    GROUP_RENT_AREA_BASIS = os.environ.get("GROUP_RENT_AREA_BASIS", "house")
    LANDLORD_REGISTER_MIN_ROOMS = _env_int("LANDLORD_REGISTER_MIN_ROOMS", 10)
    LANDLORD_REGISTER_MIN_OCCUPANTS = _env_int("LANDLORD_REGISTER_MIN_OCCUPANTS", 15)
    # Residence permits (居住证): warn this many days before expiry; endorsed yearly in the
    # window before each anniversary of issue; card validity in years (check: a setting).
    PERMIT_EXPIRY_WARN_DAYS = _env_int("PERMIT_EXPIRY_WARN_DAYS", 30)
    PERMIT_ENDORSE_WINDOW_DAYS = _env_int("PERMIT_ENDORSE_WINDOW_DAYS", 30)
    PERMIT_VALIDITY_YEARS = _env_int("PERMIT_VALIDITY_YEARS", 3)
    # 人户分离: compare the hukou address with the home at "address" level (down to the room) or
    # "building" level (road, number, building), the region too: the subdistrict's district.
    HUKOU_MATCH_LEVEL = os.environ.get("HUKOU_MATCH_LEVEL", "address")
    HOME_REGION = os.environ.get("HOME_REGION", "310117")
    # A fixed-line number typed without its area code is in this one (Shanghai).
    LANDLINE_AREA_CODE = os.environ.get("LANDLINE_AREA_CODE", "021")
    PHONE_REQUIRED_FROM_AGE = _env_int("PHONE_REQUIRED_FROM_AGE", 16)
    # Quality grading (达标): a change is on time when recorded within this many days of the
    # visit that found it; a house's last visit should be no older than VISIT_MAX_AGE_DAYS.
    TIMELY_RECORD_DAYS = _env_int("TIMELY_RECORD_DAYS", 7)
    VISIT_MAX_AGE_DAYS = _env_int("VISIT_MAX_AGE_DAYS", 90)
    GRADE_WEIGHTS = os.environ.get("GRADE_WEIGHTS", "completeness:25,accuracy:25,timeliness:20,coverage:20,backlog:10")
    # Score points lost per violation per 100 records, and per open task/conflict per 100 houses.
    GRADE_ACCURACY_PENALTY = float(os.environ.get("GRADE_ACCURACY_PENALTY") or 10)
    GRADE_BACKLOG_PENALTY = float(os.environ.get("GRADE_BACKLOG_PENALTY") or 10)
    # Lowest scores for 优, 良 and 合格; below the last: 不合格.
    GRADE_THRESHOLDS = os.environ.get("GRADE_THRESHOLDS", "90,80,60")
    # Tasks (待办, webapp/registry/tasks): days to the due date by source (a source left out:
    # 7), and how many last days of a collection cycle make an unvisited house a task.
    TASK_DUE_DAYS = os.environ.get(
        "TASK_DUE_DAYS", "public:3,lead:3,volunteer:3,property:3,sync:7,rules:14,permit:14,unvisited:7")
    TASK_UNVISITED_LATE_DAYS = _env_int("TASK_UNVISITED_LATE_DAYS", 7)
    # Field app: a release tag mixed into the service worker's cache version, to push a new
    # app version to phones without changing a file.
    FIELDAPP_RELEASE = os.environ.get("FIELDAPP_RELEASE", "")


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"
    WTF_CSRF_ENABLED = True
    # Cheap hashing keeps a test suite with hundreds of logins fast.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    SERVER_NAME = None
    LOGIN_ACCOUNT_FREE_FAILURES = 3
    # Tests register many phones per user (the browser tests share one database): the cap is
    # tested at its default in tests/test_device_tokens.py.
    DEVICES_PER_USER = 1000
    # Requests run as concurrently as a test sends them (its races stay races); the gate has
    # its own tests (tests/test_gate.py), and the gunicorn ones run with it as deployed.
    ONE_REQUEST_AT_A_TIME = False


class ProductionConfig(Config):
    """Refuses to start on a default secret, and never creates demo data or logins."""

    ALLOW_DEMO_DATA = False
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE

    def __init__(self) -> None:
        secret = os.environ.get("SECRET_KEY", "")
        if len(secret) < 32 or secret == Config.SECRET_KEY:
            raise RuntimeError(
                "SECRET_KEY must be set to a random value of at least 32 characters in production "
                "(生产环境必须设置至少32个字符的随机 SECRET_KEY)"
            )
        if "DATABASE_URL" not in os.environ:
            raise RuntimeError("DATABASE_URL must be set in production (生产环境必须设置 DATABASE_URL)")
        self.SECRET_KEY = secret


CONFIGS = {"development": Config, "test": TestConfig, "production": ProductionConfig}

# Settings that were renamed: still set in an environment, they would be silently ignored
# (a security setting that does nothing), so start-up refuses them and names the new one.
RENAMED = {
    "LOGIN_MAX_FAILURES": "LOGIN_ACCOUNT_FREE_FAILURES (failures per account and network before delays)",
    "LOGIN_LOCKOUT_S": "LOGIN_ACCOUNT_MAX_DELAY_S (the longest delay; accounts are no longer locked)",
}


def secret_keys(config: Mapping[str, Any]) -> tuple[str, ...]:
    """SECRET_KEY, then each former one: the first seals and signs, any of them opens."""
    return (config["SECRET_KEY"], *config["SECRET_KEY_FALLBACKS"])


def load_config(name: str | None = None) -> Config:
    """The config named by GRIDWALK_ENV (development, test, production)."""
    chosen = name or os.environ.get("GRIDWALK_ENV") or "development"
    for old, new in RENAMED.items():
        if os.environ.get(old):
            raise RuntimeError(f"{old} was replaced by {new}: set that instead (该设置已改名)")
    try:
        return CONFIGS[chosen]()
    except KeyError:
        raise RuntimeError(f"GRIDWALK_ENV must be one of {sorted(CONFIGS)}, not {chosen!r}") from None
