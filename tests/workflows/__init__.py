"""durasim equivalents of the workflows recorded on a real Temporal server.

The recordings are in tests/fixtures/recorded/ (see its README); each workflow here does
exactly what the recorded one does, so the event histories must match.
"""
