"""What a check says back: each problem as a sentence, what happened, and what to change."""

from __future__ import annotations

import html
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an answer.

    Attributes:
        kind: a stable name tests and notebooks can match ("lost", "duplicate",
            "nondeterminism", "missing_compensation", "wrong_order", "extra_compensation",
            "side_effect_in_workflow", "wrong_result", "not_a_workflow", "bad_option",
            "workflow_failed", "replay").
        case: the run that showed it ("crash at step 5 on bank_b, after the effect").
        sentence: what happened, for a student.
        fix: what to change.
    """

    kind: str
    case: str
    sentence: str
    fix: str = ""

    def __str__(self) -> str:
        fix = f"\n    fix: {self.fix}" if self.fix else ""
        return f"✗ [{self.case}] {self.sentence}{fix}"


@dataclass
class Feedback:
    """The verdict on one answer: ``ok``, the problems found, what passed, and notes.

    ``str()`` is a plain-text report; in Jupyter it renders as HTML.
    """

    exercise: str
    problems: list[Problem] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    @property
    def kinds(self) -> list[str]:
        """The distinct kinds of problem found, in order of first appearance."""
        return list(dict.fromkeys(p.kind for p in self.problems))

    @property
    def fixes(self) -> list[str]:
        """The distinct fixes suggested, in order."""
        return list(dict.fromkeys(p.fix for p in self.problems if p.fix))

    def __str__(self) -> str:
        verdict = ("✓ correct: every case passed" if self.ok
                   else f"✗ not yet: {len(self.problems)} problem(s)")
        lines = [f"{self.exercise}: {verdict}"]
        lines += [f"✓ {text}" for text in self.passed]
        lines += [str(p) for p in self.problems]
        if self.fixes:
            lines.append("What to change:")
            lines += [f"  - {fix}" for fix in self.fixes]
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"<Feedback {self.exercise}: {'ok' if self.ok else 'not ok'}, "
                f"{len(self.problems)} problem(s)>")

    def _repr_html_(self) -> str:
        esc = html.escape
        colour = "#1a7f37" if self.ok else "#cf222e"
        verdict = ("correct: every case passed" if self.ok
                   else f"not yet: {len(self.problems)} problem(s)")
        items = [f"<li><span style='color:#1a7f37'>✓</span> {esc(t)}</li>" for t in self.passed]
        items += [f"<li><span style='color:#cf222e'>✗</span> <i>{esc(p.case)}</i>: "
                  f"{esc(p.sentence)}</li>" for p in self.problems]
        fixes = "".join(f"<li>{esc(f)}</li>" for f in self.fixes)
        notes = "".join(f"<p><i>{esc(n)}</i></p>" for n in self.notes)
        return (f"<div class='durasim-feedback'><p><b>{esc(self.exercise)}</b>: "
                f"<b style='color:{colour}'>{verdict}</b></p>"
                f"<ul style='list-style:none;padding-left:0'>{''.join(items)}</ul>"
                + (f"<p>What to change:</p><ul>{fixes}</ul>" if fixes else "")
                + f"{notes}</div>")
