"""SS7 (MTP2, MTP3, ISUP) as our own sans-IO stack; see the modules."""
