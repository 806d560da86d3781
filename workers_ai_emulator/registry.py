"""The emulated models: catalogue metadata plus what drives their behaviour.

A model belongs to a *family* (``classic``, ``openai``, ``gpt-oss``,
``embedding``, ``llama-guard``, ``reranker``); the app maps each family to one
handler, so adding images or audio later means one new family module and a few
:class:`ModelSpec` rows (``llama_guard`` and ``reranker`` keep theirs in their own modules).
Catalogue ids, descriptions, ``created_at`` and properties are copied from
Cloudflare's catalogue where a file exists; the two models without one
(glm-4.7-flash, llama-3.1-8b-instruct-fast) carry stable made-up ids.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from . import audio_models, llama_guard, reranker, schemas
from .prices import price_property

TASKS: dict[str, dict[str, str]] = {
    "Text Generation": {
        "id": "c329a1f9-323d-4e91-b2aa-582dd4188d34",
        "name": "Text Generation",
        "description": "Family of generative text models, such as large language models (LLM), that can be "
        "adapted for a variety of natural language tasks.",
    },
    "Text Embeddings": {
        "id": "0137cdcf-162a-4108-94f2-1ca59e8c65ee",
        "name": "Text Embeddings",
        "description": "Feature extraction models transform raw data into numerical features that can be "
        "processed while preserving the information in the original dataset. These models are ideal as part "
        "of building vector search applications or Retrieval Augmented Generation workflows with Large "
        "Language Models (LLM).",
    },
}

# Well-formed names that are not in the registry get 5007; anything else 3042.
MODEL_NAME_RE = re.compile(r"^@(cf|hf)/[A-Za-z0-9._-]+/[A-Za-z0-9._:-]+$")


@dataclass(frozen=True)
class ModelSpec:
    name: str
    family: str
    task: str
    input_schema: schemas.Schema
    description: str
    created_at: str
    catalogue_id: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    # text generation
    vision: str | None = None  # "parts": image_url data URIs in messages; "image": top-level byte array
    tool_stream: str = "whole"  # classic streams: "whole" calls or OpenAI-like "delta" fragments
    # embeddings
    dimension: int = 0
    embedding_style: str = "bge"  # bge | m3 | gemma | plamo | qwen
    max_input_tokens: int = 512  # longer texts are silently truncated to this many tokens

    @property
    def id(self) -> str:
        return self.catalogue_id or str(uuid.uuid5(uuid.NAMESPACE_URL, "workers-ai-emulator:" + self.name))

    def record(self) -> dict[str, Any]:
        """The ``models/search`` record, shaped like a catalogue entry minus its schema."""
        return {
            "id": self.id,
            "source": 1,
            "name": self.name,
            "description": self.description,
            "task": TASKS[self.task],
            "created_at": self.created_at,
            "tags": [],
            "properties": [{"property_id": k, "value": v} for k, v in self.properties.items()]
            + ([] if "price" in self.properties else price_property(self.name)),
        }


_META_TERMS = "https://github.com/meta-llama/llama-models/blob/main/models/{}/LICENSE"
_L31_DESC = (
    "The Meta Llama 3.1 collection of multilingual large language models (LLMs) is a collection of pretrained and "
    "instruction tuned generative models. The Llama 3.1 instruction tuned text only models are optimized for "
    "multilingual dialogue use cases and outperform many of the available open source and closed chat models on "
    "common industry benchmarks."
)
_BGE_INFO = "https://huggingface.co/BAAI/bge-{}-en-v1.5"


def _bge(name: str, size: str, dim: int, catalogue_id: str, created_at: str, info_size: str) -> ModelSpec:
    return ModelSpec(
        name=name,
        family="embedding",
        task="Text Embeddings",
        input_schema=schemas.BGE,
        description=f"BAAI general embedding ({size}) model that transforms any given text into a "
        f"{dim}-dimensional vector",
        created_at=created_at,
        catalogue_id=catalogue_id,
        properties={"async_queue": "true", "info": _BGE_INFO.format(info_size), "max_input_tokens": "512",
                    "output_dimensions": str(dim)},
        dimension=dim,
    )


_SPECS: list[ModelSpec] = [
    ModelSpec(
        name="@cf/meta/llama-3.3-70b-instruct-fp8-fast",
        family="classic",
        task="Text Generation",
        input_schema=schemas.LLAMA_3_3,
        description="Llama 3.3 70B quantized to fp8 precision, optimized to be faster.",
        created_at="2024-12-06 17:09:18.338",
        catalogue_id="7a143886-c9bb-4a1c-be95-377b1973bc3b",
        properties={"async_queue": "true", "context_window": "24000", "function_calling": "true",
                    "terms": _META_TERMS.format("llama3_3")},
    ),
    ModelSpec(
        name="@cf/meta/llama-3.1-8b-instruct",
        family="classic",
        task="Text Generation",
        input_schema=schemas.LLAMA_3_1,
        description=_L31_DESC,
        created_at="2024-07-18 22:53:33.746",
        catalogue_id="41975cc2-c82e-4e98-b7b8-88ffb186a545",
        properties={"terms": _META_TERMS.format("llama3_1")},
    ),
    ModelSpec(
        name="@cf/meta/llama-3.1-8b-instruct-fast",
        family="classic",
        task="Text Generation",
        input_schema=schemas.LLAMA_3_1,
        description="[Fast version] " + _L31_DESC,
        created_at="2024-07-18 22:53:33.746",
        properties={"terms": _META_TERMS.format("llama3_1")},
    ),
    ModelSpec(
        name="@cf/meta/llama-4-scout-17b-16e-instruct",
        family="classic",
        task="Text Generation",
        input_schema=schemas.LLAMA_4_SCOUT,
        description="Meta's Llama 4 Scout is a 17 billion parameter model with 16 experts that is natively "
        "multimodal. These models leverage a mixture-of-experts architecture to offer industry-leading "
        "performance in text and image understanding.",
        created_at="2025-04-05 20:25:56.137",
        catalogue_id="06455e78-19f7-487b-93cd-c05a3dd07813",
        properties={"context_window": "131000", "function_calling": "true", "vision": "true",
                    "terms": _META_TERMS.format("llama4")},
        vision="parts",
        tool_stream="delta",
    ),
    ModelSpec(
        name="@cf/meta/llama-3.2-11b-vision-instruct",
        family="classic",
        task="Text Generation",
        input_schema=schemas.LLAMA_3_2_VISION,
        description=" The Llama 3.2-Vision instruction-tuned models are optimized for visual recognition, image "
        "reasoning, captioning, and answering general questions about an image.",
        created_at="2024-09-25 05:36:04.547",
        catalogue_id="2cbc033b-ded8-4e02-bbb2-47cf05d5cfe5",
        properties={"lora": "true", "vision": "true", "terms": _META_TERMS.format("llama3_2")},
        vision="image",
    ),
    ModelSpec(
        name="@cf/zai-org/glm-4.7-flash",
        family="openai",
        task="Text Generation",
        input_schema=schemas.OPENAI_CHAT,
        description="GLM-4.7-Flash is a fast, multilingual model from Z.ai with tool calling and reasoning, "
        "served with an OpenAI-compatible chat-completions interface.",
        created_at="2026-01-20 12:00:00.000",
        properties={"context_window": "131072", "function_calling": "true", "reasoning": "true"},
    ),
    ModelSpec(
        name="@cf/openai/gpt-oss-120b",
        family="gpt-oss",
        task="Text Generation",
        input_schema=schemas.GPT_OSS,
        description="OpenAI\u2019s open-weight models designed for powerful reasoning, agentic tasks, and versatile "
        "developer use cases \u2013 gpt-oss-120b is for production, general purpose, high reasoning use-cases.",
        created_at="2025-08-05 10:27:29.131",
        catalogue_id="f9f2250b-1048-4a52-9910-d0bf976616a1",
        properties={
            "async_queue": "true", "context_window": "128000", "function_calling": "true", "reasoning": "true",
            "reasoning_effort": {"supported_efforts": ["low", "medium", "high"], "default_effort": "medium",
                                 "mandatory": True, "default_enabled": True},
        },
    ),
    _bge("@cf/baai/bge-small-en-v1.5", "Small", 384, "57fbd08a-a4c4-411c-910d-b9459ff36c20",
         "2023-11-07 15:43:58.042", "base"),
    _bge("@cf/baai/bge-base-en-v1.5", "Base", 768, "429b9e8b-d99e-44de-91ad-706cf8183658",
         "2023-09-25 19:21:11.898", "base"),
    _bge("@cf/baai/bge-large-en-v1.5", "Large", 1024, "01bc2fb0-4bca-4598-b985-d2584a3f46c0",
         "2023-11-07 15:43:58.042", "large"),
    _bge("@cf/baai/omni-bge-base-en-v1.5", "Base", 768, "09e0e83d-b055-49c9-81a5-c13250a176a7",
         "2025-08-24 11:06:58.799", "base"),
    ModelSpec(
        name="@cf/baai/bge-m3",
        family="embedding",
        task="Text Embeddings",
        input_schema=schemas.BGE_M3,
        description="Multi-Functionality, Multi-Linguality, and Multi-Granularity embeddings model.",
        created_at="2024-05-22 19:27:09.781",
        catalogue_id="eed32bc1-8775-4985-89ce-dd1405508ad8",
        properties={"context_window": "60000", "output_dimensions": "1024"},
        dimension=1024,
        embedding_style="m3",
        max_input_tokens=8192,
    ),
    ModelSpec(
        name="@cf/google/embeddinggemma-300m",
        family="embedding",
        task="Text Embeddings",
        input_schema=schemas.EMBEDDINGGEMMA,
        description="EmbeddingGemma is a 300M parameter, state-of-the-art for its size, open embedding model "
        "from Google, built from Gemma 3 (with T5Gemma initialization) and the same research and technology "
        "used to create Gemini models. EmbeddingGemma produces vector representations of text, making it "
        "well-suited for search and retrieval tasks, including classification, clustering, and semantic "
        "similarity search. This model was trained with data in 100+ spoken languages.",
        created_at="2025-09-04 16:38:44.980",
        catalogue_id="15631501-2742-4346-a469-22fe202188a2",
        properties={"output_dimensions": "768"},
        dimension=768,
        embedding_style="gemma",
        max_input_tokens=2048,
    ),
    ModelSpec(
        name="@cf/pfnet/plamo-embedding-1b",
        family="embedding",
        task="Text Embeddings",
        input_schema=schemas.PLAMO,
        description="PLaMo-Embedding-1B is a Japanese text embedding model developed by Preferred Networks, "
        "Inc.\n\nIt can convert Japanese text input into numerical vectors and can be used for a wide range "
        "of applications, including information retrieval, text classification, and clustering.",
        created_at="2025-09-24 18:42:05.576",
        catalogue_id="bc2b61f6-7eb3-4cdf-94f5-ffc128bd6aa4",
        # The catalogue states no dimension; 2048 is PLaMo-Embedding-1B's published size.
        properties={"output_dimensions": "2048"},
        dimension=2048,
        embedding_style="plamo",
        max_input_tokens=4096,
    ),
    ModelSpec(
        name="@cf/qwen/qwen3-embedding-0.6b",
        family="embedding",
        task="Text Embeddings",
        input_schema=schemas.QWEN3_EMBEDDING,
        description="The Qwen3 Embedding model series is the latest proprietary model of the Qwen family, "
        "specifically designed for text embedding and ranking tasks. ",
        created_at="2025-06-18 20:23:22.086",
        catalogue_id="cb254e3b-372b-4d4e-8526-ada79940427a",
        properties={"context_window": "8192", "output_dimensions": "1024"},
        dimension=1024,
        embedding_style="qwen",
        max_input_tokens=8192,
    ),
]

# Models emulated in modules of their own.
TASKS.update(reranker.TASKS)
_SPECS += [ModelSpec(**fields) for fields in (*llama_guard.SPECS, *reranker.SPECS)]

from . import images as _images  # noqa: E402  (the image models live in their own module)

TASKS["Text-to-Image"] = _images.TASK
_SPECS += [ModelSpec(**fields) for fields in _images.SPECS]

TASKS.update(audio_models.TASKS)
_SPECS += [ModelSpec(**row) for row in audio_models.SPECS]
MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in _SPECS}


def search(task: str | None = None, text: str | None = None) -> list[ModelSpec]:
    """``models/search`` filtering: task name (case-insensitive) and a substring of name/description."""
    found = list(MODELS.values())
    if task:
        found = [m for m in found if m.task.lower() == task.lower()]
    if text:
        needle = text.lower()
        found = [m for m in found if needle in m.name.lower() or needle in m.description.lower()]
    return found
