"""What a deployment installs (requirements.txt) is enough to start the Procfile's gunicorn and the app.

The test environment has more installed (pytest, the emulator's packages, ...), which once hid that
gunicorn's gevent worker imports `packaging`. So the import runs in a subprocess that refuses every
top-level module not provided by requirements.txt's dependency closure or the standard library.
"""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import PackageNotFoundError, distribution, packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]

GUARD = """
import sys, sysconfig
from importlib.machinery import PathFinder
allowed = set(sys.argv[1].split(","))
stdlib = tuple({sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"]})
def in_stdlib(top):
    spec = PathFinder.find_spec(top)
    origin = (spec and spec.origin) or ""
    return origin.startswith(stdlib) and "site-packages" not in origin
class Refuse:
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in allowed or top in sys.stdlib_module_names or top in sys.builtin_module_names or in_stdlib(top):
            return None
        raise ModuleNotFoundError(f"No module named {top!r} (not provided by requirements.txt)", name=top)
sys.meta_path.insert(0, Refuse())
import gunicorn.app.wsgiapp, gunicorn.workers.ggevent, gunicorn.workers.gthread
from app import app
print("ok")
"""


def _closure(lines: list[str]) -> set[str]:
    wanted = [(Requirement(line), frozenset()) for line in lines]
    names: set[str] = set()
    while wanted:
        requirement, _ = wanted.pop()
        name = canonicalize_name(requirement.name)
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            continue  # a marker-excluded or optional dependency that is not installed here
        extras = requirement.extras or {""}
        if name in names and not requirement.extras:
            continue
        names.add(name)
        for spec in dist.requires or []:
            dependency = Requirement(spec)
            if dependency.marker is None or any(dependency.marker.evaluate({"extra": e}) for e in extras):
                wanted.append((dependency, frozenset()))
    return names


def test_requirements_txt_alone_starts_the_procfile_workers_and_the_app() -> None:
    lines = [line.split("#", 1)[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    closure = _closure([line for line in lines if line])
    allowed = {"app", "openai_compat"} | {
        module for module, dists in packages_distributions().items()
        if any(canonicalize_name(d) in closure for d in dists)
    }
    env = {"CLOUDFLARE_ACCOUNT_ID": "0" * 32, "CLOUDFLARE_API_TOKEN": "t", "GATEWAY_API_KEYS": "k", "PATH": "",
           "URL_SIGNING_SECRET": "s" * 32}  # without it the app warns on stdout at start-up
    result = subprocess.run([sys.executable, "-c", GUARD, ",".join(sorted(allowed))], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]
