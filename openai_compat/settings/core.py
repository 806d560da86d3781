"""The settings every deployment has: Workers AI account, auth, upstream, storage, serving, logs."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from openai_compat.core.model_names import is_workers_ai_name
from openai_compat.core.pricing import known_unit
from openai_compat.settings.formats import NamedKey, split_csv

CLOUDFLARE_API_BASE = "https://api.cloudflare.com/client/v4"


def http_url(value: str | None) -> str | None:
    if value is None:
        return None
    if not value.startswith(("http://", "https://")):
        raise ValueError("must be an http(s) URL")
    return value.rstrip("/")


class CoreSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cloudflare_account_id: str = Field(
        min_length=1, pattern=r"^[A-Za-z0-9_-]+$", description="Workers AI account id"
    )
    cloudflare_api_token: SecretStr = Field(
        description="Cloudflare API token with Workers AI Read and Edit"
    )
    workers_ai_base_url: str = Field(
        default=CLOUDFLARE_API_BASE,
        description="Replaces the Cloudflare API base: models run at `{base}/accounts/{account}/ai/run/{model}`",
    )
    cloudflare_ai_gateway_id: str | None = Field(
        default=None,
        description="Route inference through Cloudflare AI Gateway: "
        "`{CLOUDFLARE_AI_GATEWAY_BASE_URL}/{account}/{gateway}/workers-ai/{model}` "
        "(the model list still comes from `WORKERS_AI_BASE_URL`)",
    )
    cloudflare_ai_gateway_base_url: str = Field(
        default="https://gateway.ai.cloudflare.com/v1", description="AI Gateway base URL"
    )
    cloudflare_ai_gateway_token: SecretStr | None = Field(
        default=None, description="Sent as `cf-aig-authorization` for authenticated AI Gateways"
    )

    gateway_api_keys: list[SecretStr] = Field(
        default_factory=list,
        description="Comma-separated client keys, accepted as `Authorization: Bearer <key>` (required unless "
        "`ALLOW_UNAUTHENTICATED`)",
    )
    allow_unauthenticated: bool = Field(
        default=False, description="Must be `true` to run without `GATEWAY_API_KEYS` (logs a warning)"
    )
    named_api_keys: dict[str, NamedKey] = Field(
        default_factory=dict,
        description="Client keys by name, each with `secret_sha256` (the SHA-256 of the key; make one with "
        "`python -m openai_compat new-key NAME`) and optional `models`, `requests_per_minute`, "
        "`tokens_per_minute`, `budget_usd_per_day`, `budget_usd_per_month`: `[named_api_keys.NAME]` tables, "
        "or a JSON object in the environment (merged over the file's by name)",
    )
    admin_api_key: SecretStr | None = Field(
        default=None, description="The only key `GET /admin/usage` accepts (unset: that endpoint answers 403)"
    )
    metrics_api_key: SecretStr | None = Field(
        default=None,
        description="If set, the only key `GET /metrics` accepts besides `ADMIN_API_KEY`; unset, any client key may "
        "read it",
    )
    cors_allowed_origins: list[str] = Field(
        default_factory=lambda: ["*"], description="Comma-separated origins allowed to call from a browser"
    )
    console_enabled: bool = Field(
        default=False,
        description="Serve the browser console at `/console`: a playground for any client key and a usage view "
        "for `ADMIN_API_KEY` (see Console); `scripts/dev` turns it on",
    )

    model_aliases: dict[str, str] = Field(
        default_factory=dict,
        description="`name=@cf/model,...` or a JSON object, merged over `[model_aliases]` in `settings.toml`",
    )
    models_cache_ttl_seconds: float = Field(
        default=300.0, ge=0, description="How long the Workers AI model catalogue is cached"
    )
    model_prices: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description="Prices that override or complete the catalogue's, per Workers AI model and catalogue unit: "
        "`[model_prices.\"@cf/...\"]` tables with `\"per M input tokens\" = 0.06`, or a JSON object in the "
        "environment (merged over the file's by model)",
    )

    upstream_connect_timeout_seconds: float = Field(default=5.0, gt=0, description="Connect timeout to Workers AI")
    upstream_read_timeout_seconds: float = Field(
        default=120.0, gt=0, description="Read timeout to Workers AI (a read timeout is a 504)"
    )
    upstream_max_retries: int = Field(
        default=2, ge=0, le=10,
        description="Retries on connection errors, 429, 502, 503, 504, before any byte reached the client",
    )
    upstream_backoff_seconds: float = Field(
        default=0.25, ge=0, description="Backoff base between retries (exponential, jittered)"
    )
    upstream_max_retry_wait_seconds: float = Field(
        default=10.0, ge=0,
        description="A `Retry-After` longer than this is passed to the client instead of waited for",
    )
    upstream_pool_size: int | None = Field(
        default=None, ge=1,
        description="Kept-alive connections to Workers AI per worker (default: one per concurrent request)",
    )

    max_request_bytes: int = Field(default=26_214_400, ge=1024, description="Larger JSON bodies get 413")
    sse_heartbeat_seconds: float = Field(
        default=15.0, ge=0,
        description="SSE comment (`: ping`) sent whenever the upstream is silent that long, so PaaS routers "
        "do not cut slow first tokens (`0` disables)",
    )
    default_max_tokens: int = Field(
        default=4096, ge=1,
        description="Output limit when the client sends none (Workers AI's own default of 256 truncates answers)",
    )
    image_max_bytes: int = Field(
        default=10_485_760, ge=1024, description="Largest image a client may send by URL or data URL"
    )
    image_fetch_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Time limit for fetching one image from a URL"
    )


    storage_backend: Literal["local", "r2"] = Field(
        default="local",
        description="Where generated images and stored Responses live: `local` (a directory) or `r2` (Cloudflare R2)",
    )
    storage_dir: str = Field(
        default=".data/storage",
        description="The `local` backend's directory (shared by every worker on the machine)",
    )
    r2_endpoint_url: str | None = Field(
        default=None,
        description="R2's S3 endpoint (default `https://<CLOUDFLARE_ACCOUNT_ID>.r2.cloudflarestorage.com`)",
    )
    r2_bucket: str | None = Field(default=None, description="The R2 bucket (the operator creates it)")
    r2_access_key_id: SecretStr | None = Field(default=None, description="R2 API token's access key id")
    r2_secret_access_key: SecretStr | None = Field(default=None, description="R2 API token's secret access key")
    r2_region: str = Field(default="auto", description="Region name sent to R2")
    storage_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Connect and read timeout for each call to the store"
    )

    redis_url: SecretStr | None = Field(
        default=None,
        description="Redis (`redis://` or `rediss://`) holding rate limits, budgets and per-key usage, shared by every "
        "worker and instance; unset, they are kept in memory, per worker process",
    )
    redis_tls_verify: bool = Field(
        default=True,
        description="Verify a `rediss://` server's certificate (Heroku's Redis has a self-signed one: `false` there)",
    )
    redis_timeout_seconds: float = Field(
        default=2.0, gt=0, description="Connect and read timeout for each Redis call"
    )
    graceful_timeout_seconds: float = Field(
        default=20.0, ge=0,
        description="On SIGTERM, streams still open may run this long, then end with an error event "
        "(gunicorn's own grace is kept at least 5 s longer)",
    )

    port: int = Field(default=8000, ge=1, le=65535, description="Where gunicorn listens (PaaS hosts set `PORT`)")
    host: str = Field(default="0.0.0.0", description="Interface gunicorn binds")
    web_concurrency: int = Field(default=2, ge=1, description="gunicorn worker processes")
    gunicorn_worker_class: Literal["gevent", "gthread"] = Field(
        default="gevent", description="`gevent` (see Performance) or `gthread`"
    )
    gunicorn_threads: int = Field(default=64, ge=1, description="Threads per worker under `gthread`")
    gunicorn_worker_connections: int = Field(
        default=1000, ge=1, description="Concurrent requests per worker under `gevent`"
    )
    gunicorn_timeout: int = Field(default=120, ge=1, description="gunicorn's worker timeout")
    gunicorn_graceful_timeout: int = Field(default=25, ge=1, description="gunicorn's shutdown grace")
    gunicorn_keepalive: int = Field(
        default=95, ge=1, description="Keep-alive seconds (longer than the routers' idle keep-alive)"
    )
    http_header_timeout_seconds: float = Field(
        default=10.0, gt=0, description="A new connection must send its request head within this (`gevent` workers)"
    )
    http_io_timeout_seconds: float = Field(
        default=60.0, gt=0,
        description="Each read of a request body and each write of a reply must progress within this (`gevent`)",
    )
    http_body_timeout_seconds: float = Field(
        default=300.0, gt=0, description="A request body must arrive whole within this, however slowly it trickles"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        default="INFO",
        description="One JSON line per request on stdout: request id, method, path, status, duration, model, "
        "usage, upstream time; never prompts, outputs or keys",
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @property
    def concurrency_per_worker(self) -> int:
        """Requests one worker process serves at once: threads, or greenlets under gevent."""
        if self.gunicorn_worker_class == "gevent":
            return self.gunicorn_worker_connections
        return self.gunicorn_threads

    @property
    def pool_size(self) -> int:
        return self.upstream_pool_size or self.concurrency_per_worker

    @field_validator("gateway_api_keys", "cors_allowed_origins", mode="before")
    @classmethod
    def _csv(cls, value: Any) -> Any:
        return split_csv(value)

    @field_validator("workers_ai_base_url", "cloudflare_ai_gateway_base_url", "r2_endpoint_url")
    @classmethod
    def _core_urls(cls, value: str | None) -> str | None:
        return http_url(value)

    @field_validator("model_aliases")
    @classmethod
    def _aliases(cls, value: dict[str, str]) -> dict[str, str]:
        for name, target in value.items():
            if not is_workers_ai_name(target):
                raise ValueError(f"alias {name!r} must point at an @cf/ or @hf/ model, not {target!r}")
        return value

    @field_validator("named_api_keys")
    @classmethod
    def _key_names(cls, value: dict[str, NamedKey]) -> dict[str, NamedKey]:
        seen: dict[str, str] = {}
        for name, key in value.items():
            if not re.match(r"^[A-Za-z0-9._-]{1,64}$", name):
                raise ValueError(f"key name {name!r} must be 1-64 letters, digits, '.', '_' or '-'")
            digest = key.secret_sha256.lower()
            if digest in seen:
                raise ValueError(f"keys {seen[digest]!r} and {name!r} have the same secret_sha256")
            seen[digest] = name
        return value

    @field_validator("model_prices")
    @classmethod
    def _prices(cls, value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for model, units in value.items():
            if not is_workers_ai_name(model):
                raise ValueError(f"prices are per Workers AI model (@cf/...), not {model!r}")
            for unit, price in units.items():
                if not known_unit(unit):
                    raise ValueError(f"{model}: the unit {unit!r} is not one the catalogue uses")
                if price < 0 or price != price:
                    raise ValueError(f"{model}: the price for {unit!r} must be a number >= 0")
        return value

    @model_validator(mode="after")
    def _key_models(self) -> CoreSettings:
        for name, key in self.named_api_keys.items():
            for model in key.models or []:
                if model not in self.model_aliases and not is_workers_ai_name(model):
                    raise ValueError(
                        f"NAMED_API_KEYS: key {name!r} allows {model!r}, which is neither an alias nor an @cf/ model"
                    )
        return self

    @property
    def r2_endpoint(self) -> str:
        return self.r2_endpoint_url or f"https://{self.cloudflare_account_id}.r2.cloudflarestorage.com"

    @model_validator(mode="after")
    def _r2_complete(self) -> CoreSettings:
        if self.storage_backend == "r2":
            for name in ("r2_bucket", "r2_access_key_id", "r2_secret_access_key"):
                if not getattr(self, name):
                    raise ValueError(f"{name.upper()} is required when STORAGE_BACKEND is r2")
        return self

    @property
    def api_keys(self) -> tuple[bytes, ...]:
        """Keys as bytes, ready for constant-time comparison."""
        return tuple(key.get_secret_value().encode() for key in self.gateway_api_keys)
