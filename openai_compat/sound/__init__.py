"""Audio files the gateway reads and writes, shared by the audio families: which container an upload
is and how long it plays (`containers`), subtitle files (`subtitles`), Whisper's language names
(`languages`). No Flask, no family, no I/O beyond the file object a caller hands in."""
