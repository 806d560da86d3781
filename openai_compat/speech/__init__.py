"""`/v1/audio/speech` on Workers AI text-to-speech models (Deepgram Aura, MeloTTS), streamed."""
