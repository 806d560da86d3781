"""The deploy files agree with the gateway they deploy: the Procfile's command everywhere, settings that
exist, secrets never in a file, shutdown windows longer than the streams' grace, and a Dockerfile whose
image holds what that command needs (checked by assembling its files and starting them; no Docker
engine is needed)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from harness import processes
from openai_compat.settings import SECRET_FIELDS, Settings

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = {name.upper() for name in Settings.model_fields}
GRACE = Settings.model_fields["graceful_timeout_seconds"].default
PROCFILE = (ROOT / "Procfile").read_text().strip()


def procfile_command() -> list[str]:
    kind, _, command = PROCFILE.partition(":")
    assert kind == "web"
    return shlex.split(command)


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (op, _) in enumerate(instructions) if op == "FROM")
    return instructions[last_from:]


def test_the_image_runs_the_procfiles_command_as_a_non_root_user() -> None:
    stage = final_stage()
    [cmd] = [json.loads(args) for op, args in stage if op == "CMD"]
    assert cmd == procfile_command()
    users = [args for op, args in stage if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    positions = [op for op, _ in stage]
    assert len(positions) - positions[::-1].index("USER") - 1 < positions.index("CMD")
    assert any(op == "HEALTHCHECK" and "/health" in args for op, args in stage)


def test_the_image_is_the_python_the_project_names() -> None:
    version = (ROOT / ".python-version").read_text().strip()
    bases = [args.split()[0] for op, args in dockerfile_instructions() if op == "FROM"]
    assert bases and all(base.startswith(f"python:{version}-slim") for base in bases)


def image_app_dir(target: Path) -> Path:
    """The image's /app, assembled from the final stage's COPY lines (local sources, .dockerignore applied)."""
    ignored = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    for op, args in final_stage():
        if op != "COPY" or args.startswith("--from"):
            continue
        *sources, destination = args.split()
        for source in sources:
            assert source.rstrip("/") not in ignored, f".dockerignore drops {source}, which the image copies"
            path = ROOT / source
            into = target / destination.removeprefix("./") if destination not in ("./", ".") else target
            if path.is_dir():
                shutil.copytree(path, into, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                into.mkdir(parents=True, exist_ok=True)
                shutil.copy(path, into / path.name)
    return target


def test_the_images_files_are_enough_to_start_the_procfiles_command(tmp_path: Path) -> None:
    app_dir = image_app_dir(tmp_path / "app")
    assert not (app_dir / "tests").exists() and not (app_dir / "workers_ai_emulator").exists()
    port = processes.free_port()
    env = {
        "PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "PORT": str(port), "HOST": "127.0.0.1",
        "CLOUDFLARE_ACCOUNT_ID": processes.ACCOUNT_ID, "CLOUDFLARE_API_TOKEN": "t", "GATEWAY_API_KEYS": "k",
        "WEB_CONCURRENCY": "1", "STORAGE_DIR": str(tmp_path / "data"), "PYTHONUNBUFFERED": "1",
    }
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    command = [gunicorn if part == "gunicorn" else part for part in procfile_command()]
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=app_dir, env=env, stdout=sink, stderr=subprocess.STDOUT)
    service = processes.Service("image", f"http://127.0.0.1:{port}", process, log)
    try:
        processes.wait_ready(service, lambda: processes.http_status(f"{service.url}/ready") == 200, 30)
    finally:
        service.stop()


def test_heroku_app_json() -> None:
    app = json.loads((ROOT / "app.json").read_text())
    env = app["env"]
    assert env["CLOUDFLARE_ACCOUNT_ID"]["required"] and env["CLOUDFLARE_API_TOKEN"]["required"]
    assert any(addon["plan"].startswith("heroku-redis") for addon in app["addons"])  # sets REDIS_URL
    assert env["REDIS_TLS_VERIFY"]["value"] == "false"  # Heroku's Redis certificate is self-signed
    # Heroku sends SIGKILL 30 s after SIGTERM: the streams' grace and gunicorn's 5 s more must fit.
    assert float(env["GRACEFUL_TIMEOUT_SECONDS"]["value"]) + 5 <= 30
    assert set(env) <= SETTINGS
    for name in SECRET_FIELDS:
        assert "value" not in env.get(name.upper(), {}), f"{name.upper()} must not have a value in app.json"


def test_fly_toml() -> None:
    fly = tomllib.loads((ROOT / "fly.toml").read_text())
    service = fly["http_service"]
    assert service["internal_port"] == int(fly["env"]["PORT"])
    assert (ROOT / fly["build"]["dockerfile"]).is_file()
    assert fly["kill_timeout"] >= float(fly["env"]["GRACEFUL_TIMEOUT_SECONDS"]) + 5
    assert [check["path"] for check in service["checks"]] == ["/ready"]
    workers = int(fly["env"]["WEB_CONCURRENCY"])
    capacity = workers * Settings.model_fields["gunicorn_worker_connections"].default
    assert service["concurrency"]["soft_limit"] < service["concurrency"]["hard_limit"] <= capacity
    assert set(fly["env"]) <= SETTINGS


def test_render_yaml() -> None:
    blueprint = yaml.safe_load((ROOT / "render.yaml").read_text())
    [web] = [s for s in blueprint["services"] if s["type"] == "web"]
    assert shlex.split(web["startCommand"]) == procfile_command()
    assert web["healthCheckPath"] == "/health"
    variables = {v["key"]: v for v in web["envVars"]}
    assert web["maxShutdownDelaySeconds"] >= float(variables["GRACEFUL_TIMEOUT_SECONDS"]["value"]) + 5
    redis = variables["REDIS_URL"]["fromService"]
    assert any(s["type"] == redis["type"] == "keyvalue" and s["name"] == redis["name"] for s in blueprint["services"])
    assert set(variables) - {"PYTHON_VERSION"} <= SETTINGS
    for name in SECRET_FIELDS:
        assert "value" not in variables.get(name.upper(), {}), f"{name.upper()} must not have a value"


def test_the_systemd_unit_runs_the_procfiles_command_and_waits_for_the_streams() -> None:
    unit = (ROOT / "deploy" / "openai-compat.service").read_text()
    options = dict(re.findall(r"^(\w+)=(.*)$", unit, re.MULTILINE))
    exec_start = shlex.split(options["ExecStart"])
    assert Path(exec_start[0]).name == "gunicorn" and exec_start[1:] == procfile_command()[1:]
    assert options["User"] not in ("root", "0") and options["KillMode"] == "mixed"
    assert int(options["TimeoutStopSec"]) >= GRACE + 5
    assert options["Type"] == "notify"
    example = (ROOT / "deploy" / "openai-compat.env.example").read_text()
    named = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))
    named |= {pair.split("=")[0] for pair in options["Environment"].split()}
    assert named <= SETTINGS, named - SETTINGS


def test_the_proxies_pass_streams_through_unbuffered() -> None:
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    assert re.search(r"^\s*proxy_buffering off;", nginx, re.MULTILINE)
    read_timeout = re.search(r"proxy_read_timeout (\d+)s;", nginx)
    assert read_timeout and int(read_timeout.group(1)) >= 120
    assert "proxy_pass http://openai_compat;" in nginx and "server 127.0.0.1:8000;" in nginx
    caddy = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "reverse_proxy 127.0.0.1:8000" in caddy and re.search(r"flush_interval -1", caddy)


@pytest.mark.parametrize("name", ["Dockerfile", "fly.toml", "render.yaml", "app.json", "deploy/nginx.conf",
                                  "deploy/Caddyfile", "deploy/openai-compat.service"])
def test_the_readme_points_at_each_deploy_file(name: str) -> None:
    assert f"`{name}`" in (ROOT / "README.md").read_text()
