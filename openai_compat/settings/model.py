"""`Settings`: every knob of the gateway in one frozen model; field names are the lower-case
environment variable names. The fields live with what they configure (`core`, `families`); the
rules that span both live here. Validator names must differ between the parts: a subclass attribute of
the same name would hide the other's validator."""

from __future__ import annotations

from pydantic import model_validator

from openai_compat.core.model_names import is_workers_ai_name
from openai_compat.settings.core import CoreSettings
from openai_compat.settings.families import FamilySettings


class Settings(FamilySettings, CoreSettings):
    @model_validator(mode="after")
    def _default_models(self) -> Settings:
        for name in ("moderation_default_model", "rerank_default_model"):
            model = getattr(self, name)
            if model not in self.model_aliases and not is_workers_ai_name(model):
                raise ValueError(f"{name.upper()} must be an @cf/ model or an alias in MODEL_ALIASES, not {model!r}")
        return self

    @model_validator(mode="after")
    def _image_links(self) -> Settings:
        if self.image_url_mode == "presigned" and self.storage_backend != "r2":
            raise ValueError("IMAGE_URL_MODE=presigned needs STORAGE_BACKEND=r2 (the local directory cannot sign)")
        if self.image_url_mode == "public" and not self.image_public_base_url:
            raise ValueError("IMAGE_PUBLIC_BASE_URL is required when IMAGE_URL_MODE is public")
        return self
