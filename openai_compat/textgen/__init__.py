"""Text generation on Workers AI, independent of which OpenAI endpoint asked for it.

Chat Completions and Completions (and later Responses) share this: model profiles, reading
both upstream output dialects, stop sequences, and running n generations side by side.
"""
