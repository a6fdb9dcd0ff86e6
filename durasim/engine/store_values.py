"""What a history may hold, and how the SQLite store writes it down.

The rule, the same for every store: a history holds what Temporal's default payload
converter carries, JSON values and bytes. ``None``, ``bool``, ``int``, ``float``, ``str``,
lists, dicts with string keys, and ``bytes`` (Temporal's ``binary/plain``). Anything else
is changed on the way in exactly as a trip through JSON would change it, so a history
reads the same before and after a reload, in memory or from disk:

- tuples (and other lists) become lists; ``bytearray`` becomes ``bytes``;
- dict keys that are ``int``, ``float``, ``bool`` or ``None`` become their JSON text
  (``1`` -> ``"1"``, ``True`` -> ``"true"``), as ``json.dumps`` writes them;
- subclasses of the JSON types (an ``IntEnum``, a ``str`` subclass) become the plain type.

Sets, objects, dataclasses and the like are refused with a :class:`StoreError` naming
where they are, never silently turned into something else. The copy is deep: a value a
workflow or activity changes later cannot change what the history recorded.

On disk the values are JSON text with one extension: ``{"$bytes": "<base64>"}`` is a
``bytes`` value, and a dict that has exactly one key, ``"$bytes"`` or ``"$dict"``, is
written ``{"$dict": [key, value]}`` so it is never mistaken for one.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from durasim.errors import StoreError

_BYTES, _DICT = "$bytes", "$dict"
_TAGS = frozenset((_BYTES, _DICT))
_KEPT = frozenset((str, float, bool, type(None)))
"""Types kept as they are (ints too, unless too long for JSON text: see _BIG)."""
_BIG = 10 ** 4000
"""Ints at least this long are checked against Python's int-to-text limit, as JSON is."""
_HOLDS = ("a history holds JSON values (None, bool, int, float, str, lists, dicts with "
          "string keys) and bytes")


def normalised(value: Any, where: str = "value") -> Any:
    """A deep copy of ``value`` as a reload gives it back (see the module docstring).

    Raises:
        StoreError: the value holds something a history cannot keep; ``where`` names it.
    """
    try:
        return _fast_copy(value)
    except (StoreError, RecursionError):
        pass  # say exactly where, with the slower walk that keeps track
    try:
        return _copy(value, where)
    except RecursionError:
        raise StoreError(f"{where} is nested too deeply (or contains itself) to be kept "
                         f"in a history; {_HOLDS}") from None


def _fast_copy(value: Any) -> Any:
    """:func:`_copy` without naming places: every history event goes through here."""
    kind = type(value)
    if kind is dict:
        copied = {}
        for key, item in value.items():
            kind = type(item)
            if not (kind is str or kind is float or kind is bool or item is None
                    or (kind is int and -_BIG < item < _BIG)):
                item = _fast_copy(item)
            copied[key if type(key) is str else _key(key, "")] = item
        return copied
    if kind is list or kind is tuple:
        items = []
        for item in value:
            kind = type(item)
            if not (kind is str or kind is float or kind is bool or item is None
                    or (kind is int and -_BIG < item < _BIG)):
                item = _fast_copy(item)
            items.append(item)
        return items
    return _copy(value, "")


def _kept(value: Any) -> bool:
    kind = type(value)
    return kind in _KEPT or (kind is int and -_BIG < value < _BIG)


def _copy(value: Any, where: str) -> Any:
    if _kept(value):
        return value
    if isinstance(value, dict):
        return {_key(k, where): v if _kept(v) else _copy(v, f"{where}.{k}")
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [v if _kept(v) else _copy(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, int):  # a subclass (IntEnum) or a very long int
        number = int.__int__(value)
        try:
            int.__repr__(number)
        except ValueError:
            raise StoreError(f"{where} is an integer too long to write as JSON text "
                             f"({number.bit_length()} bits); {_HOLDS}") from None
        return number
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, str):
        return str.__str__(value)
    raise StoreError(f"{where} is of type {type(value).__name__}, which a history cannot keep; "
                     f"{_HOLDS} (convert it first, e.g. a set to a sorted list)")


def _key(key: Any, where: str) -> str:
    """A dict key as ``json.dumps`` writes it."""
    if type(key) is str:
        return key
    if isinstance(key, str):
        return str.__str__(key)
    if key is None or isinstance(key, bool):
        return json.dumps(key)
    if isinstance(key, int):
        return int.__repr__(key)
    if isinstance(key, float):
        return json.dumps(float.__float__(key))
    raise StoreError(f"{where} has a key of type {type(key).__name__} ({key!r}), which a "
                     f"history cannot keep; {_HOLDS}")


def dumps(value: Any) -> str:
    """Normalised ``value`` -> the store's JSON text (ASCII, so any str survives)."""
    text = json.dumps(value, default=_tag_bytes)
    if f'"{_BYTES}"' in text or f'"{_DICT}"' in text:  # a user's key could look like a tag
        text = json.dumps(_escape(value), default=_tag_bytes)
    return text


def _tag_bytes(value: Any) -> Any:
    if isinstance(value, bytes):
        return {_BYTES: base64.b64encode(value).decode("ascii")}
    raise TypeError(f"{type(value).__name__} is not normalised")


def _escape(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in _TAGS:
            ((key, inner),) = value.items()
            return {_DICT: [key, _escape(inner)]}
        return {k: _escape(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_escape(v) for v in value]
    return value


def loads(text: str) -> Any:
    """The store's JSON text -> the value (ValueError if it is not what dumps writes)."""
    return json.loads(text, object_hook=_untag)


def _untag(obj: dict[str, Any]) -> Any:
    if len(obj) != 1:
        return obj
    if _BYTES in obj:
        data = obj[_BYTES]
        if not isinstance(data, str):
            raise ValueError(f"{_BYTES} holds {type(data).__name__}, not base64 text")
        try:
            return base64.b64decode(data, validate=True)
        except binascii.Error as error:
            raise ValueError(f"{_BYTES} holds invalid base64 ({error})") from None
    if _DICT in obj:
        pair = obj[_DICT]
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
            raise ValueError(f"{_DICT} must hold [key, value]")
        return {pair[0]: pair[1]}
    return obj
