"""Stop sequences enforced by the gateway for models that cannot stop on their own.

Streamed text is held back only while it could still be the start of a stop sequence, so
ordinary tokens pass through at once and a sequence split across chunks is still caught.
"""

from __future__ import annotations


def truncate_at_stop(text: str, stops: list[str]) -> tuple[str, bool]:
    """Text before the earliest stop sequence, and whether one was found."""
    cut = min((i for i in (text.find(s) for s in stops if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


class StopMatcher:
    def __init__(self, stops: list[str]) -> None:
        self._stops = [s for s in stops if s]
        self._held = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        """The part of `text` that is safe to emit now."""
        if not self._stops or self.stopped:
            return "" if self.stopped else text
        buffer = self._held + text
        emit, found = truncate_at_stop(buffer, self._stops)
        if found:
            self._held, self.stopped = "", True
            return emit
        hold = 0
        for stop in self._stops:
            for size in range(min(len(stop) - 1, len(buffer)), hold, -1):
                if buffer.endswith(stop[:size]):
                    hold = size
                    break
        self._held = buffer[len(buffer) - hold :] if hold else ""
        return buffer[: len(buffer) - hold]

    def flush(self) -> str:
        """What was held back when the stream ended without completing a stop sequence."""
        held, self._held = self._held, ""
        return "" if self.stopped else held
