"""`/v1/chat/completions` on Workers AI text models."""
