"""A run's verdicts: what each check said, as values the Run carries.

Apart from :mod:`durasim.checks` (which computes them) so that a Run can hold its verdicts
without the architectures importing the checks: the checks read runs, never the reverse.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class CheckResult:
    """One invariant's verdict: its name, pass/fail and the sentence that explains it."""

    name: str
    ok: bool
    sentence: str

    def __str__(self) -> str:
        return f"{'✓' if self.ok else '✗'} {self.sentence}"


class CheckReport:
    """The verdicts of one run; ``ok`` when all passed. Iterate it, or index by name."""

    def __init__(self, results: Iterable[CheckResult] = ()) -> None:
        self.results: tuple[CheckResult, ...] = tuple(results)

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return all(r.ok for r in self.results)

    @property
    def failed(self) -> list[CheckResult]:
        """The checks that did not pass."""
        return [r for r in self.results if not r.ok]

    def __iter__(self) -> Iterator[CheckResult]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def __getitem__(self, key: int | str) -> CheckResult:
        if isinstance(key, int):
            return self.results[key]
        for result in self.results:
            if result.name == key:
                return result
        raise KeyError(f"no check {key!r}; checks: {', '.join(r.name for r in self.results)}")

    def __str__(self) -> str:
        return "\n".join(str(r) for r in self.results)

    def __repr__(self) -> str:
        verdict = "ok" if self.ok else "FAILED"
        return f"<CheckReport {verdict}: {len(self.failed)} of {len(self)} failed>"

    def _repr_html_(self) -> str:
        items = "".join(
            f"<li><span style='color:{'#1a7f37' if r.ok else '#cf222e'}'>"
            f"{'✓' if r.ok else '✗'}</span> {html.escape(r.sentence)}</li>"
            for r in self.results)
        return f"<ul class='durasim-checks' style='list-style:none;padding-left:0'>{items}</ul>"
