"""Figure 6 (server side): peak RSS of a server process during a full first pull.

Run as `python -m bench.memory URL USERNAME`: a fresh process with the app in it pulls every
page through the WSGI test client (no HTTP thread to share the process with) and prints JSON:
resident-set peak before and after, in MiB (resource.getrusage: ru_maxrss is KiB on Linux).
"""
from __future__ import annotations

import gzip
import json
import resource
import sys


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(url: str, username: str) -> dict[str, float]:
    from bench.dataset import PASSWORD, app_config
    from webapp.app import create_app

    app = create_app(app_config(url))
    client = app.test_client()
    token = client.post("/api/devices", json={"username": username, "password": PASSWORD}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
    client.get("/api/sync/pull?protocol=1&limit=1", headers=headers)  # warm: imports, pools, caches
    before = _peak_mib()
    cursor, rows = "", 0
    while True:
        answer = client.get(f"/api/sync/pull?protocol=1&limit=2000&cursor={cursor}", headers=headers)
        page = json.loads(gzip.decompress(answer.get_data()))
        rows += page["count"]
        cursor = page["cursor"]
        if not page["more"]:
            break
    return {"before_mib": before, "peak_mib": _peak_mib(), "rows": rows}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
