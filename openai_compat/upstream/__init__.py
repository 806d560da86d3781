"""Everything that talks to Workers AI lives in this package."""

from openai_compat.upstream.body import Body, json_body, json_with_file_body, multipart_body, raw_body
from openai_compat.upstream.client import WorkersAIClient
from openai_compat.upstream.reply import UpstreamReply, UpstreamStreamError

__all__ = [
    "Body",
    "UpstreamReply",
    "UpstreamStreamError",
    "WorkersAIClient",
    "json_body",
    "json_with_file_body",
    "multipart_body",
    "raw_body",
]
