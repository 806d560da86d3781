"""`/v1/completions` (legacy text completions) on Workers AI text models."""
