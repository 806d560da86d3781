"""`/v1/rerank` (Cohere's and Jina's format) on Workers AI rerankers: batched, merged, best first."""
