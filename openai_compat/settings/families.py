"""The knobs of the endpoint families: default models, concurrency, image links, background responses."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from openai_compat.settings.core import http_url


class FamilySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    embeddings_max_concurrency: int = Field(
        default=10, ge=1, le=32,
        description="Upstream calls one embeddings request may have in flight (inputs go in batches of the "
        "model's limit)",
    )
    moderation_default_model: str = Field(
        default="@cf/meta/llama-guard-3-8b",
        description="Model for `/v1/moderations` requests that name none (a Llama Guard model, or an alias of one)",
    )
    moderation_max_concurrency: int = Field(
        default=10, ge=1, le=32,
        description="Upstream calls one moderations request may have in flight (one call per input)",
    )
    rerank_default_model: str = Field(
        default="@cf/baai/bge-reranker-base",
        description="Model for `/v1/rerank` requests that name none (a Workers AI reranker, or an alias of one)",
    )
    rerank_max_concurrency: int = Field(
        default=10, ge=1, le=32,
        description="Upstream calls one rerank request may have in flight (documents go in batches of the "
        "model's limit)",
    )

    responses_lease_seconds: float = Field(
        default=30.0, gt=0,
        description="A background response whose worker stops renewing its lease for this long is reported `failed`",
    )

    images_default_model: str = Field(
        default="@cf/black-forest-labs/flux-2-klein-4b",
        description="Model for `/v1/images/generations` when the request names none (an alias or `@cf/...`)",
    )
    images_edit_model: str = Field(
        default="@cf/runwayml/stable-diffusion-v1-5-img2img",
        description="img2img model for `/v1/images/edits` without a mask and for `/v1/images/variations`",
    )
    images_inpainting_model: str = Field(
        default="@cf/runwayml/stable-diffusion-v1-5-inpainting",
        description="Inpainting model for `/v1/images/edits` with a mask",
    )
    images_max_concurrency: int = Field(
        default=4, ge=1, le=10, description="Upstream calls one image request (`n` > 1) may have in flight"
    )
    image_url_mode: Literal["signed", "presigned", "public"] = Field(
        default="signed",
        description="Image links: `signed` (served by the gateway, HMAC-signed, expiring), `presigned` "
        "(an R2 presigned GET) or `public` (`IMAGE_PUBLIC_BASE_URL` + key)",
    )
    image_url_ttl_seconds: int = Field(
        default=3600, ge=60, le=7 * 24 * 3600, description="How long a `signed` or `presigned` image link works"
    )
    url_signing_secret: SecretStr | None = Field(
        default=None,
        description="Key (16+ characters) for signed image links, shared by every instance that serves them "
        "(without it, a key derived from `CLOUDFLARE_API_TOKEN` is used: links then stop working when the "
        "token is rotated)",
    )
    image_public_base_url: str | None = Field(
        default=None,
        description="Base URL of a public bucket or custom domain (`IMAGE_URL_MODE=public`); links are this + key",
    )
    public_base_url: str | None = Field(
        default=None,
        description="The gateway's public URL for the links it serves (default: from the request, see "
        "`TRUST_PROXY_HEADERS`)",
    )
    trust_proxy_headers: bool = Field(
        default=False,
        description="Build links from `X-Forwarded-Proto`/`X-Forwarded-Host` (set it behind a PaaS router "
        "that sets them)",
    )
    image_retention_days: float = Field(
        default=7.0, ge=0,
        description="Stored images older than this are removed (local backend; for R2 set the bucket's "
        "lifecycle rule, see README); `0` keeps them",
    )


    audio_max_upload_bytes: int = Field(
        default=26_214_400, ge=1024,
        description="Largest audio file transcriptions and translations accept (OpenAI's 25 MiB); a larger upload is "
        "a 413, refused while it is read",
    )
    audio_translation_max_concurrency: int = Field(
        default=10, ge=1, le=32,
        description="m2m100 calls one translation may have in flight (segments are translated one call each, to "
        "keep their timings)",
    )
    speech_voices: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="OpenAI voice names -> each speech model's speakers (`[speech_voices.\"@cf/...\"]` tables in "
        "`settings.toml`; a JSON object in the environment)",
    )

    @field_validator("speech_voices", mode="before")
    @classmethod
    def _json_table(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    @field_validator("url_signing_secret")
    @classmethod
    def _secret_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters")
        return value

    @field_validator("images_default_model", "images_edit_model", "images_inpainting_model")
    @classmethod
    def _model_name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must name a model")
        return value.strip()

    @field_validator("image_public_base_url", "public_base_url")
    @classmethod
    def _link_urls(cls, value: str | None) -> str | None:
        return http_url(value)
