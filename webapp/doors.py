"""Through which door a change came, for the change log (webapp/registry/changelog.py): the
page of the request, or the command. Views that know more name it themselves (`set_door`:
the phone of a push, the phone of a rescue file)."""
from __future__ import annotations

from flask import has_request_context, request

from webapp.registry.changelog import Door

# Pages whose writes are not an ordinary console edit.
ENDPOINT_DOORS = {
    "api.push": "phone", "devices.rescue": "rescue", "extract.upload": "import",
    "conflicts.combine": "merge", "conflicts.resolve": "conflict",
}
COMMAND_DOORS = {"import-extract": "import"}


def current_door() -> Door | None:
    if has_request_context():
        endpoint = request.endpoint or ""
        kind = ENDPOINT_DOORS.get(endpoint, "console")
        if kind == "conflict":
            return Door(kind, str((request.view_args or {}).get("conflict_id", "")) or None)
        return Door(kind, endpoint or None)
    import click

    context = click.get_current_context(silent=True)
    if context is None:
        return None
    name = context.info_name or ""
    return Door(COMMAND_DOORS.get(name, "cli"), context.command_path[:80])
