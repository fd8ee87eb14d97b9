"""The small pieces every layer uses: the clock, record classes, digests, key and
argument rules. Nothing here imports another part of the engine."""
