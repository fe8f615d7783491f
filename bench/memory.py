"""Figure 6 (server side): peak RSS of a server process during a full first pull.

Run as `python -m bench.memory URL USERNAME`: a fresh process with the app in it pulls every
page through the WSGI test client (no HTTP thread to share the process with) and prints JSON:
resident set before the pull and its peak during it, in MiB. The peak is /proc's VmHWM, reset
just before the pull (clear_refs 5); getrusage's ru_maxrss would not do: Linux carries it
across exec, so it reported the benchmark runner's own 2 GiB.
"""
from __future__ import annotations

import gzip
import json
import sys


def _status_mib(key: str) -> float:
    with open("/proc/self/status", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024  # kB
    raise KeyError(key)


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w", encoding="utf-8") as fh:
        fh.write("5")  # resets VmHWM to the current resident set


def main(url: str, username: str) -> dict[str, float]:
    from bench.dataset import PASSWORD, app_config
    from webapp.app import create_app

    app = create_app(app_config(url))
    client = app.test_client()
    token = client.post("/api/devices", json={"username": username, "password": PASSWORD}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
    client.get("/api/sync/pull?protocol=1&limit=1", headers=headers)  # warm: imports, pools, caches
    before = _status_mib("VmRSS")
    _reset_peak()
    cursor, rows = "", 0
    while True:
        answer = client.get(f"/api/sync/pull?protocol=1&limit=2000&cursor={cursor}", headers=headers)
        page = json.loads(gzip.decompress(answer.get_data()))
        rows += page["count"]
        cursor = page["cursor"]
        if not page["more"]:
            break
    return {"before_mib": before, "peak_mib": _status_mib("VmHWM"), "rows": rows}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
