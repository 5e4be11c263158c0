"""Signal processing on linear int16 audio at 8 kHz, vectorised across channels."""
