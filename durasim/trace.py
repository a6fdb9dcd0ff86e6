"""The trace: everything that happened in a simulation, in order.

Every picture durasim draws (timelines, balances, animations) is made from a trace, and
``Trace.digest()`` is how tests prove a run is deterministic: same seed and fault plan,
same digest. Recording is on the kernel's hot path, so events are stored as plain tuples
and become :class:`TraceEvent` objects only when somebody reads them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from typing import Any, NamedTuple

from durasim.errors import DurasimError

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


class TraceEvent(NamedTuple):
    """One thing that happened: when, on which node, what kind, and its details."""

    time: float
    node: str
    kind: str
    fields: dict[str, Any]

    def __str__(self) -> str:
        details = " ".join(f"{k}={v}" for k, v in self.fields.items())
        return f"{self.time:10.4f}  {self.node or '-':<12} {self.kind:<18} {details}".rstrip()


_Raw = tuple[float, Any, str, "dict[str, Any] | None"]
"""(time, node or the callback a kernel step woke, kind, fields or None)."""


def _node_name(owner: Any) -> str:
    """The node of a raw entry: recorded events carry its name, kernel steps carry the
    callback they woke, whose process names its owner. Resolved on read to keep recording
    cheap."""
    if owner is None or isinstance(owner, str):
        return owner or ""
    name = getattr(getattr(owner, "__self__", None), "owner", "")
    return name if isinstance(name, str) else ""


class Trace:
    """An append-only list of :class:`TraceEvent` with filters, JSON and a digest.

    Args:
        events: events to start with (e.g. from :meth:`from_json`).
        enabled: when False, nothing is recorded (the fastest runs).
    """

    def __init__(self, events: list[TraceEvent] | None = None, enabled: bool = True) -> None:
        self.enabled = enabled
        self._raw: list[_Raw] = [tuple(e) for e in events] if events else []  # type: ignore[misc]
        self._filtered: dict[tuple[Any, ...], tuple[int, list[TraceEvent]]] = {}
        """filter()'s answers, each with the length of the trace it was computed on."""

    def _append(self, time: float, node: str, kind: str, fields: dict[str, Any] | None) -> None:
        self._raw.append((time, node, kind, fields))

    def __len__(self) -> int:
        return len(self._raw)

    def settle(self) -> None:
        """Replace the callbacks kernel steps carry by their node names (what reading
        them gives anyway): the run is over, and those callbacks reach its whole world,
        which a trace kept for its pictures would otherwise keep alive."""
        raw = self._raw
        for index, (time, owner, kind, fields) in enumerate(raw):
            if owner is not None and owner.__class__ is not str:
                raw[index] = (time, _node_name(owner), kind, fields)

    def __iter__(self) -> Iterator[TraceEvent]:
        for time, owner, kind, fields in self._raw:
            yield TraceEvent(time, _node_name(owner), kind, fields if fields is not None else {})

    @property
    def events(self) -> list[TraceEvent]:
        """All events as a list (a copy)."""
        return list(self)

    def filter(
        self, *, node: str | None = None, kind: str | tuple[str, ...] | None = None,
        semantic: bool = False,
    ) -> list[TraceEvent]:
        """Events of one node and/or kind(s).

        Args:
            node: keep only this node's events.
            kind: keep only this kind (or any of these kinds).
            semantic: keep only events a model recorded on purpose (``Simulation.record``),
                dropping the kernel's bookkeeping steps (timeouts, resumes).
        """
        key = (node, kind, semantic)
        length, cached = self._filtered.get(key, (-1, []))
        if length == len(self._raw):  # nothing recorded since: pictures ask again and again
            return list(cached)
        kinds = (kind,) if isinstance(kind, str) else kind
        found = []
        for time, owner, k, fields in self._raw:
            if kinds is not None and k not in kinds:
                continue
            if semantic and fields is None:  # kernel steps carry no fields
                continue
            name = _node_name(owner)
            if node is None or name == node:
                found.append(TraceEvent(time, name, k, fields if fields is not None else {}))
        self._filtered[key] = (len(self._raw), found)
        return list(found)

    def nodes(self) -> list[str]:
        """Names of the nodes that appear in the trace, in order of first appearance."""
        return list(dict.fromkeys(n for n in (_node_name(o) for _, o, _, _ in self._raw) if n))

    def to_json(self, indent: int | None = None) -> str:
        """The trace as JSON: ``{"events": [[time, node, kind, fields], ...]}``.

        Kernel steps are written with ``null`` fields so a reloaded trace still tells them
        apart from what the model recorded.
        """
        rows = [[t, _node_name(o), k, _canonical(f)] for t, o, k, f in self._raw]
        return json.dumps({"events": rows}, indent=indent)

    @classmethod
    def from_json(cls, text: str) -> Trace:
        """Read a trace written by :meth:`to_json`."""
        try:
            rows = json.loads(text)["events"]
            trace = cls()
            for t, n, k, f in rows:
                trace._append(float(t), str(n), str(k), None if f is None else dict(f))
        except (ValueError, KeyError, TypeError) as exc:
            raise TraceFormatError(f"not a durasim trace: {exc}") from None
        return trace

    def digest(self) -> str:
        """SHA-256 of a canonical encoding: equal for identical runs, different otherwise."""
        h = hashlib.sha256()
        for time, owner, kind, fields in self._raw:
            row = [repr(time), _node_name(owner), kind, _canonical(fields)]
            h.update(json.dumps(row, sort_keys=True, separators=(",", ":")).encode())
            h.update(b"\n")
        return h.hexdigest()

    def __repr__(self) -> str:
        return f"<Trace {len(self)} events, {len(self.nodes())} nodes>"

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.filter(semantic=True))


class TraceFormatError(DurasimError, ValueError):
    """A trace file could not be read."""


def _canonical(value: Any) -> Any:
    """A JSON-safe, address-free form of ``value`` so digests never depend on memory."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return [_canonical(v) for v in items]
    return _ADDRESS.sub("", repr(value))
