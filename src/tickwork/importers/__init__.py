"""Importers: another scheduler's job definitions -> Tickwork JobSpecs (nothing is written
here; ``tickwork import ...`` validates them all and creates them). Each importer returns an
``Imported``: the jobs it could convert, the entries it refused with the reason, and notes
about what has no job equivalent (a crontab's MAILTO, @reboot lines, ...)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tickwork.jobspec import JobSpec


@dataclass
class Imported:
    jobs: list[tuple[str, JobSpec]] = field(default_factory=list)  # (where, spec)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (where, reason)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (where, note)

    def refuse(self, where: str, reason: str) -> None:
        self.refused.append((where, reason))

    def note(self, where: str, text: str) -> None:
        self.notes.append((where, text))

    def note_lines(self, shown: int = 3) -> list[str]:
        """One line per distinct note, in the order first seen: ``where: note`` for a note
        of one entry; a note many entries share once, with how many and the first few (a
        100,000-row table whose jobs all get the same note prints one line, not 100,000)."""
        by_text: dict[str, list[str]] = {}
        for where, text in self.notes:
            by_text.setdefault(text, []).append(where)
        lines = []
        for text, places in by_text.items():
            if len(places) == 1:
                lines.append(f"{places[0]}: {text}")
                continue
            more = f", ... ({len(places) - shown} more)" if len(places) > shown else ""
            lines.append(f"{text} ({len(places)} entries: {', '.join(places[:shown])}{more})")
        return lines
