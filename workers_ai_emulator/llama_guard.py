"""Llama Guard 3 (``@cf/meta/llama-guard-3-8b``): a verdict on a conversation, derived from its words.

The real model answers ``"safe"`` or ``"unsafe\\nS1,S10"`` (hazard codes S1-S14 of the MLCommons
taxonomy); asked for ``response_format: {"type": "json_object"}`` it answers the parsed object
``{"safe": false, "categories": ["S1", "S10"]}`` instead. Both are emulated.

The verdict rule, so tests can drive either answer:
- every message's content is read, lower-cased, split into words (``[a-z0-9]+``);
- a hazard code as a word (``s1`` .. ``s14``, e.g. "please flag this as S7") raises that category;
- so do these words: ``kill``, ``murder`` (S1), ``steal``, ``shoplift`` (S2), ``bomb`` (S9),
  ``hate`` (S10), ``suicide`` (S11);
- no raised category means ``safe``; otherwise ``unsafe`` with the categories in numeric order.
Usage: ``prompt_tokens`` counts the words of every message plus 150 for the model's safety
prompt template; ``completion_tokens`` the words of the answer.
"""

from __future__ import annotations

import re
from typing import Any

from .textgen import count_words

NAME = "@cf/meta/llama-guard-3-8b"
TEMPLATE_TOKENS = 150
"""What Llama Guard's prompt (the hazard list and instructions around the conversation) adds."""
TRIGGER_WORDS: dict[str, int] = {
    "kill": 1, "murder": 1, "steal": 2, "shoplift": 2, "bomb": 9, "hate": 10, "suicide": 11,
}
_WORD = re.compile(r"[a-z0-9]+")
_CODE = re.compile(r"s(1[0-4]|[1-9])")

# Restated from the catalogue file llama-guard-3-8b.json: only `messages` is required, contents are
# plain strings (no parts), and other fields are not refused.
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "messages": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"role": {"type": "string"}, "content": {"type": "string", "maxLength": 131072}},
                "required": ["role", "content"],
            },
        },
        "max_tokens": {"type": "integer"},
        "temperature": {"type": "number", "minimum": 0, "maximum": 5},
        "response_format": {"type": "object", "properties": {"type": {"type": "string"}}},
    },
    "required": ["messages"],
}

# ModelSpec fields: registry.py builds the spec (importing it here would be a cycle); handlers.py
# answers with `verdict`.
SPECS: list[dict[str, Any]] = [
    {
        "name": NAME,
        "family": "llama-guard",
        "task": "Text Generation",
        "input_schema": SCHEMA,
        "description": "Llama Guard 3 is a Llama-3.1-8B pretrained model, fine-tuned for content safety "
        "classification. Similar to previous versions, it can be used to classify content in both LLM inputs "
        "(prompt classification) and in LLM responses (response classification). It acts as an LLM \u2013 it "
        "generates text in its output that indicates whether a given prompt or response is safe or unsafe, and "
        "if unsafe, it also lists the content categories violated.",
        "created_at": "2025-01-01 00:00:00.000",  # the catalogue file carries no created_at
        "catalogue_id": "cc80437b-9a8d-4f1a-9c77-9aaf0d226922",
    }
]


def hazards(text: str) -> list[str]:
    """The hazard codes the rule raises for a text, in numeric order."""
    found: set[int] = set()
    for word in _WORD.findall(text.lower()):
        code = _CODE.fullmatch(word)
        if code:
            found.add(int(code.group(1)))
        elif word in TRIGGER_WORDS:
            found.add(TRIGGER_WORDS[word])
    return [f"S{number}" for number in sorted(found)]


def verdict(body: dict[str, Any]) -> dict[str, Any]:
    """``result`` for a schema-valid body."""
    texts = [m["content"] for m in body["messages"]]
    categories = hazards("\n".join(texts))
    wants_object = isinstance(body.get("response_format"), dict) and body["response_format"].get("type") == (
        "json_object"
    )
    if wants_object:
        response: Any = {"safe": not categories, "categories": categories}
        answer_words = 1 + len(categories)
    else:
        response = "unsafe\n" + ",".join(categories) if categories else "safe"
        answer_words = count_words(response.replace(",", " "))
    prompt = TEMPLATE_TOKENS + sum(count_words(t) for t in texts)
    usage = {"prompt_tokens": prompt, "completion_tokens": answer_words, "total_tokens": prompt + answer_words}
    return {"response": response, "usage": usage}

