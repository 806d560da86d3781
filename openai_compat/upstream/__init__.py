"""Everything that talks to Workers AI lives in this package."""

from openai_compat.upstream.client import UpstreamReply, UpstreamStreamError, WorkersAIClient

__all__ = ["UpstreamReply", "UpstreamStreamError", "WorkersAIClient"]
