"""Scripted answers: tell the emulator what a text model says to a given prompt.

The default generation (:mod:`.textgen`) echoes the prompt and fills tool arguments and JSON-mode
objects from their schemas, which is enough for the gateway's own tests. Client test suites written
for real models (LangChain's standard tests, agent loops) ask questions whose answers they check:
"What is the value of magic_function(3)? Use the tool." must call ``magic_function`` with
``{"input": 3}``. A script lets such a suite say so, deterministically and in the open:

    POST /__emulator/script  {"rules": [
        {"contains": "magic_function(3)", "tool_calls": [{"name": "magic_function", "arguments": {"input": 3}}]},
        {"contains": "joke about cats", "json": {"setup": "Why?", "punchline": "Because."}},
        {"contains": "capital of France", "reply": "Paris."}
    ]}

(or ``python -m workers_ai_emulator --script rules.json`` with the same object; ``GET`` shows the
rules, ``DELETE`` clears them). A rule applies when its ``contains`` text is part of the last
message, that message is the user's, and the request asks for what the rule gives:

- ``tool_calls``: the request offers every named tool and its ``tool_choice`` is not ``none``;
  the model then makes exactly these calls (arguments as given), whatever the schemas say.
- ``json``: the request is in JSON mode (``response_format`` / ``text.format`` ``json_object`` or
  ``json_schema``); the value is the answer, as given.
- ``reply``: any other request; the text is the answer (tokenized like any reply).

The first applicable rule wins; when none applies the default generation answers. Nothing here is
random, and the rules are the whole of it: the script never guesses from the wording.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ScriptedCall:
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Rule:
    contains: str
    reply: str | None = None
    tool_calls: tuple[ScriptedCall, ...] = ()
    json: Any = None
    has_json: bool = False

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"contains": self.contains}
        if self.reply is not None:
            out["reply"] = self.reply
        if self.tool_calls:
            out["tool_calls"] = [{"name": c.name, "arguments": c.arguments} for c in self.tool_calls]
        if self.has_json:
            out["json"] = self.json
        return out


def _parse_call(raw: Any, where: str) -> ScriptedCall:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"]:
        raise ValueError(f"{where} must be an object with a non-empty 'name'")
    arguments = raw.get("arguments", {})
    if not isinstance(arguments, dict):
        raise ValueError(f"{where}.arguments must be an object")
    return ScriptedCall(raw["name"], arguments)


def parse_rule(raw: Any, where: str) -> Rule:
    if not isinstance(raw, dict):
        raise ValueError(f"{where} must be an object")
    unknown = set(raw) - {"contains", "reply", "tool_calls", "json"}
    if unknown:
        raise ValueError(f"{where} has unknown fields {sorted(unknown)}")
    contains = raw.get("contains")
    if not isinstance(contains, str) or not contains:
        raise ValueError(f"{where}.contains must be a non-empty string")
    answers = [name for name in ("reply", "tool_calls", "json") if name in raw]
    if len(answers) != 1:
        raise ValueError(f"{where} must give exactly one of reply, tool_calls, json")
    if "reply" in raw:
        if not isinstance(raw["reply"], str):
            raise ValueError(f"{where}.reply must be a string")
        return Rule(contains, reply=raw["reply"])
    if "tool_calls" in raw:
        calls = raw["tool_calls"]
        if not isinstance(calls, list) or not calls:
            raise ValueError(f"{where}.tool_calls must be a non-empty list")
        return Rule(contains, tool_calls=tuple(_parse_call(c, f"{where}.tool_calls[{i}]") for i, c in enumerate(calls)))
    return Rule(contains, json=raw["json"], has_json=True)


@dataclass
class Script:
    """The emulator's current rules (process-wide, replaced as a whole)."""

    rules: list[Rule] = field(default_factory=list)

    def replace(self, raw: Any) -> None:
        if not isinstance(raw, dict) or not isinstance(raw.get("rules"), list):
            raise ValueError("the script must be an object with a 'rules' list")
        self.rules = [parse_rule(r, f"rules[{i}]") for i, r in enumerate(raw["rules"])]

    def clear(self) -> None:
        self.rules = []

    def describe(self) -> dict[str, Any]:
        return {"rules": [r.describe() for r in self.rules]}

    def matching(self, last_text: str) -> list[Rule]:
        return [r for r in self.rules if r.contains in last_text]


@dataclass(frozen=True)
class Scripted:
    """What the script decides for one request; None fields leave the default generation in charge."""

    tool_calls: tuple[ScriptedCall, ...] | None = None
    json: Any = None
    has_json: bool = False
    reply: str | None = None


def offered_tool_names(body: dict[str, Any]) -> set[str]:
    """Names of the tools a request offers, in the native ``{name}`` or OpenAI ``{function: {name}}`` form."""
    tools = body.get("tools")
    names: set[str] = set()
    for tool in tools if isinstance(tools, list) else []:
        inner = tool.get("function") if isinstance(tool, dict) else None
        name = (inner if isinstance(inner, dict) else tool if isinstance(tool, dict) else {}).get("name")
        if isinstance(name, str):
            names.add(name)
    return names


def decide(script: Script | None, *, last_role: str, last_text: str, offered_tools: set[str],
           tool_choice: Any, json_mode: bool) -> Scripted:
    """The first rule that fits this request (see the module docstring), as a :class:`Scripted`."""
    if script is None or last_role != "user":
        return Scripted()
    for rule in script.matching(last_text):
        if rule.tool_calls:
            if tool_choice != "none" and all(c.name in offered_tools for c in rule.tool_calls):
                return Scripted(tool_calls=rule.tool_calls)
        elif rule.has_json:
            if json_mode:
                return Scripted(json=rule.json, has_json=True)
        elif not json_mode:
            return Scripted(reply=rule.reply)
    return Scripted()
