"""`/v1/embeddings` on Workers AI text-embedding models: batched, float or base64, with `dimensions`."""
