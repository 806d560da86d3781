"""The optional peer: LiteLLM's proxy in front of the same emulator, for a side-by-side figure.

LiteLLM pins ``gunicorn<24`` and pulls in a few hundred MB, so it lives in its own venv
(``bench/.peer-venv``, git-ignored) and never in the gateway's. The package family was trojaned
once (March 2026), so the version is pinned exactly and the proxy runs with a minimal
environment: no real credentials, no network beyond 127.0.0.1, the cost map read from the wheel.
Its ``cloudflare/`` provider posts to ``{api_base}/chat/completions`` with ``api_base`` ending in
``/ai/v1``, which the emulator serves with the same pacing as the native route.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from bench.scenarios import CHAT_MODEL
from harness.processes import ACCOUNT_ID, EMULATOR_TOKEN, Service, free_port, http_status, spawn, wait_ready

LITELLM_REQUIREMENT = "litellm[proxy]==1.108.7"
VENV_DIR = Path(__file__).resolve().parent / ".peer-venv"
MASTER_KEY = "sk-bench-litellm-master"
INSTALL_TIMEOUT_S = 900


class PeerUnavailable(RuntimeError):
    """The peer could not be installed or started; the run goes on without it."""


def _installed(venv: Path) -> bool:
    probe = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import importlib.metadata as m; print(m.version('litellm'))"],
                           capture_output=True, text=True, timeout=60, check=False)
    return probe.returncode == 0 and probe.stdout.strip() == LITELLM_REQUIREMENT.split("==")[1]


def ensure_venv(venv: Path = VENV_DIR) -> Path:
    """Create the venv and install the pinned LiteLLM once; later runs reuse it."""
    litellm = venv / "bin" / "litellm"
    if litellm.exists() and _installed(venv):
        return litellm
    try:
        if not (venv / "bin" / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=120)
        print(f"installing {LITELLM_REQUIREMENT} into {venv} (once) ...", flush=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check",
                        LITELLM_REQUIREMENT], check=True, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S)
    except subprocess.CalledProcessError as exc:
        tail = ((exc.stderr or "") + (exc.stdout or ""))[-600:] if isinstance(exc.stderr, str) else ""
        raise PeerUnavailable(f"installing {LITELLM_REQUIREMENT} failed: {tail.strip()}") from None
    except (subprocess.TimeoutExpired, OSError) as exc:
        raise PeerUnavailable(f"installing {LITELLM_REQUIREMENT} failed: {exc}") from None
    if not litellm.exists():
        raise PeerUnavailable(f"{litellm} missing after install")
    return litellm


def write_config(directory: Path, emulator: Service) -> Path:
    """The proxy config: one chat model through the ``cloudflare/`` provider, no retries, no callbacks."""
    api_base = f"{emulator.url}/client/v4/accounts/{ACCOUNT_ID}/ai/v1"
    config = directory / "litellm_bench.yaml"
    config.write_text(
        "model_list:\n"
        f'  - model_name: "{CHAT_MODEL}"\n'
        "    litellm_params:\n"
        f'      model: "cloudflare/{CHAT_MODEL}"\n'
        f'      api_base: "{api_base}"\n'
        "      api_key: os.environ/CLOUDFLARE_API_KEY\n"
        "litellm_settings:\n"
        "  num_retries: 0\n"
        "  request_timeout: 600\n"
        "  drop_params: true\n"
        "  callbacks: []\n"
        # Without this, token counting for a llama-3 model fetches a tokenizer from the HuggingFace
        # hub on first use (five retries over ~23 s when offline); tiktoken ships in the wheel.
        "  disable_hf_tokenizer_download: true\n"
        "general_settings:\n"
        f"  master_key: {MASTER_KEY}\n"
    )
    return config


def start_peer(emulator: Service, log_dir: Path, workers: int = 2) -> Service:
    litellm = ensure_venv()
    home = log_dir / "litellm-home"
    home.mkdir(exist_ok=True)
    config = write_config(log_dir, emulator)
    port = free_port()
    env = {  # deliberately minimal, like `env -i`: nothing of ours or of the host leaks in
        "PATH": f"{litellm.parent}:/usr/bin:/bin",
        "HOME": str(home),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "HF_HUB_OFFLINE": "1",  # never reach a model hub, even if some path still asks for a tokenizer
        "CLOUDFLARE_API_KEY": EMULATOR_TOKEN,
        "NO_PROXY": "127.0.0.1,localhost",
        "LITELLM_LOG": "ERROR",
        "PYTHONUNBUFFERED": "1",
    }
    argv = [str(litellm), "--config", str(config), "--host", "127.0.0.1", "--port", str(port),
            "--num_workers", str(workers)]
    process, log_path = spawn("litellm", argv, env, log_dir, cwd=home)
    service = Service("litellm", f"http://127.0.0.1:{port}", process, log_path,
                      extra={"authorization": f"Bearer {MASTER_KEY}"})
    try:
        wait_ready(service, lambda: http_status(f"{service.url}/health/liveliness", timeout=2) == 200, 180)
    except RuntimeError as exc:
        raise PeerUnavailable(str(exc)) from None
    time.sleep(1.0)  # the second worker answers a moment after the first
    return service
