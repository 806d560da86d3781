"""`/v1/responses`: OpenAI's Responses API on Workers AI text models, stored, chained and run in the background."""
