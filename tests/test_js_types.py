"""The JavaScript type-checks with TypeScript's `tsc --noEmit --allowJs --checkJs` (tsconfig.json:
the page scripts in static/; tsconfig.worker.json: the service worker), so a misspelt property,
a wrong argument or a DOM call on the wrong element cannot pass review unnoticed. The code stays
plain JavaScript with JSDoc where inference is not enough; static/types.d.ts and
webapp/fieldapp/worker-globals.d.ts describe the browser's globals. TypeScript is pinned in
package.json (devDependencies) and installed with the other front-end packages by `npm ci`."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TSC = ROOT / "node_modules" / ".bin" / "tsc"
CONFIGS = ["tsconfig.json", "tsconfig.worker.json"]


def tsc(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    assert TSC.exists(), f"{TSC} missing: run `npm ci --ignore-scripts` (or `make test`)"
    return subprocess.run([TSC, "--pretty", "false", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize("config", CONFIGS)
def test_tsc_finds_nothing(config: str) -> None:
    done = tsc("-p", config)
    assert done.returncode == 0, f"tsc -p {config}:\n" + done.stdout + done.stderr


def test_every_script_is_checked() -> None:
    """A new script under static/ (or the worker) is covered without editing the configs."""
    checked: set[Path] = set()
    for config in CONFIGS:
        done = tsc("-p", config, "--listFilesOnly")
        assert done.returncode == 0, done.stdout + done.stderr
        checked |= {Path(line).resolve() for line in done.stdout.splitlines() if line.strip()}
    scripts = {p.resolve() for p in (ROOT / "static").rglob("*.js")} | {ROOT / "webapp" / "fieldapp" / "worker.js"}
    assert scripts, "no scripts found"
    assert sorted(map(str, scripts - checked)) == []


def test_tsc_reports_a_type_error(tmp_path: Path) -> None:
    """The check can fail: tsconfig.json's options find a wrong property in a copy of a script."""
    (tmp_path / "tsconfig.json").write_text(json.dumps({"extends": str(ROOT / "tsconfig.json"), "include": ["*.js"]}))
    (tmp_path / "ok.js").write_text("export const n = document.title.length;\n")
    assert tsc("-p", ".", cwd=tmp_path).returncode == 0
    # The "Print" buttons of plate sheets, with a property the DOM does not have.
    source = (ROOT / "static" / "js" / "print.js").read_text()
    assert "button.hidden = false;" in source
    (tmp_path / "print.js").write_text(source.replace("button.hidden = false;", "button.hiden = false;"))
    done = tsc("-p", ".", cwd=tmp_path)
    assert done.returncode != 0, done.stdout + done.stderr
    assert "print.js(" in done.stdout and "error TS2551" in done.stdout, done.stdout + done.stderr
    assert "'hiden' does not exist" in done.stdout, done.stdout
