"""`flask community add-reporter`: a login for a 楼组长, volunteer or property guard."""
from __future__ import annotations

import click
from sqlalchemy import select

from webapp import audit
from webapp.community import bp
from webapp.extensions import db
from webapp.models import Committee, User
from webapp.models.enums import Role


@bp.cli.command("add-reporter")
@click.argument("username")
@click.option("--committee", "committee_code", required=True, help="The residents' committee's code.")
@click.option("--name", "display_name", default=None)
@click.option("--phone", default=None)
@click.password_option()
def add_reporter(username: str, committee_code: str, display_name: str | None, phone: str | None,
                 password: str) -> None:
    """Create a community reporter of a committee (they see its houses' addresses only)."""
    from webapp.auth.passwords import hash_password, new_password_weaknesses
    from webapp.auth.policy import describe

    committee = db.session.scalar(select(Committee).where(Committee.code == committee_code))
    if committee is None:
        raise click.ClickException(f"no committee with code {committee_code!r}")
    if db.session.scalar(select(User).where(User.username == username)):
        raise click.ClickException(f"user {username!r} exists")
    # The policy of `flask create-user` and /admin/users: a reporter's login is a login.
    weak = new_password_weaknesses(password, username)
    if weak:
        raise click.ClickException(f"{describe(weak, 'en')} / {describe(weak, 'zh')}")
    user = User(username=username, display_name=display_name or username, password_hash=hash_password(password),
                role=Role.REPORTER, committee_id=committee.id, phone=phone)
    db.session.add(user)
    db.session.flush()
    audit.record("create_user", "user", user.id, role=Role.REPORTER, committee=committee.code)
    db.session.commit()
    click.echo(f"created {username} (reporter, {committee.name})")
