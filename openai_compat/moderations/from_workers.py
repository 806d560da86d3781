"""Llama Guard verdicts -> an OpenAI `CreateModerationResponse`. Pure functions: no I/O.

`HAZARDS` is the one place the mapping from Llama Guard 3's hazard categories (MLCommons' S1-S14)
to OpenAI's categories lives; the README's table is checked against it by a test. A hazard maps
to the OpenAI categories whose definitions cover it; four have no counterpart and set none. A
verdict of `unsafe` always sets `flagged`, whether or not a category maps. Llama Guard gives a
verdict, not probabilities, so a category's score is 1.0 when set and 0.0 otherwise.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from openai_compat.core.metering import estimate_tokens
from openai_compat.errors import UpstreamError

CATEGORIES: tuple[str, ...] = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)
"""Every category of OpenAI's moderation object, all required in each result."""


@dataclass(frozen=True)
class Hazard:
    name: str
    categories: tuple[str, ...]


HAZARDS: dict[str, Hazard] = {
    "S1": Hazard("Violent Crimes", ("violence", "illicit", "illicit/violent")),
    "S2": Hazard("Non-Violent Crimes", ("illicit",)),
    "S3": Hazard("Sex-Related Crimes", ("sexual", "illicit")),
    "S4": Hazard("Child Sexual Exploitation", ("sexual", "sexual/minors")),
    "S5": Hazard("Defamation", ("harassment",)),
    "S6": Hazard("Specialized Advice", ()),
    "S7": Hazard("Privacy", ()),
    "S8": Hazard("Intellectual Property", ()),
    "S9": Hazard("Indiscriminate Weapons", ("violence", "illicit", "illicit/violent")),
    "S10": Hazard("Hate", ("hate",)),
    "S11": Hazard("Suicide & Self-Harm", ("self-harm",)),
    "S12": Hazard("Sexual Content", ("sexual",)),
    "S13": Hazard("Elections", ()),
    "S14": Hazard("Code Interpreter Abuse", ("illicit",)),
}

_CODE = re.compile(r"\bS(\d{1,2})\b", re.IGNORECASE)


@dataclass(frozen=True)
class Verdict:
    safe: bool
    hazards: tuple[str, ...]
    """Codes as Llama Guard named them (`S1`...); codes outside S1-S14 are kept but map to nothing."""
    prompt_tokens: int
    completion_tokens: int
    estimated: bool


def _codes(values: Sequence[Any]) -> tuple[str, ...]:
    found: list[str] = []
    for value in values:
        for match in _CODE.finditer(str(value)):
            code = f"S{int(match.group(1))}"
            if code not in found:
                found.append(code)
    return tuple(found)


def _parse_text(text: str) -> tuple[bool, tuple[str, ...]] | None:
    """`safe`, or `unsafe` then a line of comma-separated codes (`unsafe\\nS1,S10`)."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return None
    head = lines[0].lower()
    if head == "safe":
        return True, ()
    if head == "unsafe":
        return False, _codes(lines[1:])
    return None


def _parse_object(value: dict[str, Any]) -> tuple[bool, tuple[str, ...]] | None:
    """`{"safe": false, "categories": ["S1"]}`, Workers AI's parsed form of the same answer."""
    safe = value.get("safe")
    categories = value.get("categories") or []
    if not isinstance(safe, bool) or not isinstance(categories, list):
        return None
    return safe, () if safe else _codes(categories)


def read_verdict(result: Any, text: str, model: str) -> Verdict:
    """The verdict of one upstream call; anything else is the model's fault, not the client's."""
    response = result.get("response") if isinstance(result, dict) else None
    parsed = _parse_text(response) if isinstance(response, str) else None
    if isinstance(response, dict):
        parsed = _parse_object(response)
    if parsed is None:
        raise UpstreamError(f"Workers AI's answer from `{model}` is not a Llama Guard verdict (safe or unsafe).")
    safe, hazards = parsed
    usage = result.get("usage")
    prompt = usage.get("prompt_tokens") if isinstance(usage, dict) else None
    completion = usage.get("completion_tokens") if isinstance(usage, dict) else None
    if isinstance(prompt, int | float) and not isinstance(prompt, bool) and prompt >= 0:
        reported = completion if isinstance(completion, int | float) and not isinstance(completion, bool) else 0
        return Verdict(safe, hazards, int(prompt), max(0, int(reported)), estimated=False)
    answer = response if isinstance(response, str) else ("safe" if safe else "unsafe " + " ".join(hazards))
    return Verdict(safe, hazards, estimate_tokens(text), estimate_tokens(answer), estimated=True)


def moderation_result(verdict: Verdict) -> dict[str, Any]:
    flagged_categories = {c for code in verdict.hazards if code in HAZARDS for c in HAZARDS[code].categories}
    return {
        "flagged": not verdict.safe,
        "categories": {c: c in flagged_categories for c in CATEGORIES},
        "category_scores": {c: 1.0 if c in flagged_categories else 0.0 for c in CATEGORIES},
        "category_applied_input_types": {c: ["text"] for c in CATEGORIES},
    }


def moderation_response(verdicts: Sequence[Verdict], *, model: str) -> dict[str, Any]:
    """The OpenAI body; `model` is the name the client asked for (or the configured default)."""
    return {
        "id": f"modr-{uuid.uuid4().hex}",
        "model": model,
        "results": [moderation_result(v) for v in verdicts],
    }
