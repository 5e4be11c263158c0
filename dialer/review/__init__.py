"""Quality review of recorded calls (质检): QA forms and their scores
(:mod:`.qaform`), and reading the gateway's stereo WAV recordings for playback and a
waveform (:mod:`.wavfile`). Sans-IO apart from reading a file the caller names."""
