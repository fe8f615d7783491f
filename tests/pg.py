"""A throwaway PostgreSQL cluster for the test session (PostgreSQL refuses to run as root,
so it runs as the `postgres` user in a temp folder that user owns)."""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager


def find_pg_bin() -> str | None:
    for tool_dir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(os.path.join(tool_dir, "initdb")):
            return tool_dir
    found = shutil.which("initdb")
    return os.path.dirname(found) if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@contextmanager
def pg_cluster() -> Iterator[str]:
    """Start a cluster; yield a SQLAlchemy URL for its `postgres` database; stop it after."""
    bindir = find_pg_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL server binaries not found; run `make test` to install them")
    tmp = tempfile.mkdtemp(prefix="gw-pg-")
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres")
    data, port = os.path.join(tmp, "data"), _free_port()
    subprocess.run(
        _as_postgres([f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "gridwalk", "-E", "UTF8",
                      "--locale=C.UTF-8"]),
        check=True, capture_output=True,
    )
    subprocess.run(
        _as_postgres([f"{bindir}/pg_ctl", "-D", data, "-l", os.path.join(tmp, "log"), "-w", "start",
                      "-o", f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -c fsync=off "
                      "-c full_page_writes=off -c synchronous_commit=off -c max_connections=200"]),
        check=True, capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://gridwalk@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_postgres([f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


def create_databases(url: str, names: list[str]) -> dict[str, str]:
    """Create these databases in the cluster `url` points into; name → its url."""
    from sqlalchemy import create_engine, text

    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return {name: url.rsplit("/", 1)[0] + f"/{name}" for name in names}
