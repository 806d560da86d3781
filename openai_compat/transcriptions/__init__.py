"""`/v1/audio/transcriptions` and `/v1/audio/translations` on Workers AI speech recognition models,
with m2m100 translating where a model has no translate task of its own."""
