"""What a user can do about an error SQLite raised on a history store.

SQLite's messages say what went wrong ("attempt to write a readonly database"), not what
to do; a student meets them when a store sits in a read-only folder or a full disk.
"""

from __future__ import annotations

import sqlite3


def advice(error: sqlite3.Error) -> str:
    """SQLite's message, and what a user can do about it."""
    text = str(error)
    lowered = text.lower()
    if "not a database" in lowered:
        return (f"{text} (the file is damaged, or is not a SQLite file); move it away or "
                "give another path")
    if "readonly" in lowered or "read-only" in lowered:
        return f"{text}; make the file and its folder writable, or copy it somewhere writable"
    if "unable to open" in lowered:
        return (f"{text}; the file and its folder must be readable and writable (SQLite "
                "keeps -wal and -shm files beside it)")
    if "locked" in lowered or "busy" in lowered:
        return f"{text}; another program has the file open for writing: close it and retry"
    if "full" in lowered or "i/o" in lowered:
        return f"{text}; free disk space or move the store to another disk"
    if "no such" in lowered or "has no column" in lowered:
        return f"{text} (this is not a durasim store); give the path of a durasim store"
    return f"{text}; check the file, or move it away and start afresh"
