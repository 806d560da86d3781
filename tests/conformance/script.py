"""The emulator's script for this suite (see `workers_ai_emulator.scripting`): answers to the questions
client test suites ask and check, where the emulator's default echo cannot know the answer.

Each rule names the prompt it answers; the default generation answers everything else.
"""

from __future__ import annotations

from typing import Any

JOKE = {"setup": "Why don't cats play poker in the jungle?", "punchline": "Too many cheetahs."}
CITY = {"city": "Paris", "country": "France", "population": 2102650}

SCRIPT: dict[str, Any] = {"rules": [
    # langchain-tests: test_tool_calling, test_tool_calling_async, test_bind_runnables_as_tools...
    {"contains": "magic_function(3)",
     "tool_calls": [{"name": "magic_function", "arguments": {"input": 3}}]},
    # langchain-tests: test_unicode_tool_call_integration (the names must come back unescaped)
    {"contains": "Create a customer named '你好啊集团'",
     "tool_calls": [{"name": "unicode_customer",
                     "arguments": {"customer_name": "你好啊集团", "description": "A Chinese technology company"}}]},
    {"contains": "Create a customer named 'こんにちは株式会社'",
     "tool_calls": [{"name": "unicode_customer",
                     "arguments": {"customer_name": "こんにちは株式会社", "description": "A Japanese company"}}]},
    # langchain-tests: test_json_mode and test_structured_output ("Tell me a joke about cats.")
    {"contains": "joke about cats", "json": JOKE},
    {"contains": "joke about cats", "tool_calls": [{"name": "Joke", "arguments": JOKE}]},
    # pydantic-ai and the SDK's parse(): a structured answer with real values
    {"contains": "largest city in France", "json": CITY},
    {"contains": "largest city in France", "tool_calls": [{"name": "final_result", "arguments": CITY}]},
]}
