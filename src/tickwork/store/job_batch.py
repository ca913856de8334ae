"""The jobs of a bulk add as the store writes them (issue 15: a million jobs).

Jobs added in bulk share most of their columns (target, group, policies, owner, times) and
differ in a few: their id, name, description, trigger and first fire. A ``JobBatch`` keeps
such jobs as one shared ``JobRecord`` (the first job built with that shared part) and one
small tuple per job holding only what is its own (``Own``), the trigger already as the JSON
text the store writes. Making a million records, then rows from them, then freeing them was
most of the Python time of a bulk add; the tuples go to the driver as they are.

It is still a ``Sequence[JobRecord]``: indexing or iterating makes each job's record (equal
to what ``build_record`` builds for it), for the few callers that want records.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, overload

from tickwork.store.bulk_rows import JOB_ROW_COLUMNS, job_rows, trigger_text
from tickwork.store.records import JobRecord

# What a job of a run holds on its own, in this order; the trigger's JSON text is last (it
# always differs: a cron trigger's seed is the job id), so a statement numbering its
# parameters ?1..?8 can take these tuples as they are.
OWN_COLUMNS = (
    "id", "name", "description", "trigger_kind", "timezone", "paused", "next_fire_at", "trigger",
)  # fmt: skip
Own = tuple[str, str, str, str, str, bool, "int | None", str]

_OWN_AT = [JOB_ROW_COLUMNS.index(c) for c in OWN_COLUMNS]


@dataclass(slots=True)
class JobRun:
    """Jobs that hold ``shared``'s values in every column but their own (``OWN_COLUMNS``):
    no tags, no secret keys, a target equal to ``shared``'s."""

    shared: JobRecord
    rows: list[Own]

    @staticmethod
    def own(record: JobRecord) -> Own:
        """A record's own columns (the first job of a run is the run's shared record)."""
        r = record
        return (
            r.id, r.name, r.description, r.trigger_kind, r.timezone, r.paused, r.next_fire_at,
            trigger_text(r.trigger),
        )  # fmt: skip

    def record(self, own: Own) -> JobRecord:
        """The record of one job of the run (its own lists and dicts)."""
        job_id, name, description, kind, tz, paused, next_fire, trigger = own
        return replace(
            self.shared, id=job_id, name=name, description=description, trigger_kind=kind,
            trigger=json.loads(trigger), timezone=tz, paused=paused, next_fire_at=next_fire,
            target=json.loads(json.dumps(self.shared.target)), tags=[], secret_keys=[],
        )  # fmt: skip

    def full_rows(self) -> list[tuple[Any, ...]]:
        """The job table's rows of the run, in JOB_ROW_COLUMNS order (``job_rows``')."""
        template = list(job_rows([self.shared])[0])
        out = []
        for own in self.rows:
            for at, value in zip(_OWN_AT, own, strict=True):
                template[at] = value
            out.append(tuple(template))
        return out


Part = JobRun | JobRecord


class JobBatch(Sequence[JobRecord]):
    """Jobs of one bulk add in order: whole records and runs of jobs sharing one."""

    __slots__ = ("_len", "_starts", "parts")

    def __init__(self, parts: Sequence[Part] = ()) -> None:
        self.parts: list[Part] = list(parts)
        self._len = sum(_size(p) for p in self.parts)
        self._starts: list[int] | None = None

    def append(self, record: JobRecord) -> None:
        self.parts.append(record)
        self._len += 1
        self._starts = None

    def append_own(self, shared: JobRecord, own: Own) -> None:
        """One job of the run sharing ``shared`` (a new run unless the last part is one)."""
        last = self.parts[-1] if self.parts else None
        if type(last) is JobRun and last.shared is shared:
            last.rows.append(own)
        else:
            self.parts.append(JobRun(shared, [own]))
        self._len += 1
        self._starts = None

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, index: int) -> JobRecord: ...
    @overload
    def __getitem__(self, index: slice) -> JobBatch: ...
    def __getitem__(self, index: int | slice) -> JobRecord | JobBatch:
        if isinstance(index, slice):
            return self._slice(*index.indices(self._len)[:2], step=index.step)
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError("JobBatch index out of range")
        starts = self._offsets()
        at = bisect.bisect_right(starts, index) - 1
        part = self.parts[at]
        return part if isinstance(part, JobRecord) else part.record(part.rows[index - starts[at]])

    def __iter__(self) -> Iterator[JobRecord]:
        for part in self.parts:
            if isinstance(part, JobRecord):
                yield part
            else:
                yield from map(part.record, part.rows)

    def ids(self) -> list[str]:
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, JobRecord):
                out.append(part.id)
            else:
                out += [own[0] for own in part.rows]
        return out

    def chunks(self, min_run: int = 1) -> list[JobRun | list[JobRecord]]:
        """The parts in order, whole records next to each other gathered into one list;
        a run of fewer than ``min_run`` jobs as their records (one statement per run is
        worth it only for long runs)."""
        out: list[JobRun | list[JobRecord]] = []
        for part in self.parts:
            if isinstance(part, JobRun) and len(part.rows) >= min_run:
                out.append(part)
                continue
            records = [part] if isinstance(part, JobRecord) else list(map(part.record, part.rows))
            if out and isinstance(out[-1], list):
                out[-1] += records
            else:
                out.append(records)
        return out

    def shapes(self) -> list[JobRecord]:
        """One record per part: each whole record, and each run's shared one. Whatever a
        check reads beside the own columns is the same for every job of a run."""
        return [p if isinstance(p, JobRecord) else p.shared for p in self.parts]

    def where(self, keep: Sequence[bool]) -> JobBatch:
        """The jobs whose flag in ``keep`` (one per job, in order) is true."""
        flags = iter(keep)
        parts: list[Part] = []
        for part in self.parts:
            if isinstance(part, JobRecord):
                if next(flags):
                    parts.append(part)
                continue
            rows = [own for own in part.rows if next(flags)]
            if rows:
                parts.append(JobRun(part.shared, rows))
        return JobBatch(parts)

    def _offsets(self) -> list[int]:
        if self._starts is None:
            starts, at = [], 0
            for part in self.parts:
                starts.append(at)
                at += _size(part)
            self._starts = starts
        return self._starts

    def _slice(self, start: int, stop: int, *, step: int | None) -> JobBatch:
        if step not in (None, 1):
            return JobBatch(list(self)[start:stop:step])
        parts: list[Part] = []
        for first, part in zip(self._offsets(), self.parts, strict=True):
            size = _size(part)
            lo, hi = max(start - first, 0), min(stop - first, size)
            if lo >= hi:
                continue
            if isinstance(part, JobRecord) or (lo, hi) == (0, size):
                parts.append(part)
            else:
                parts.append(JobRun(part.shared, part.rows[lo:hi]))
        return JobBatch(parts)


def _size(part: Part) -> int:
    return 1 if isinstance(part, JobRecord) else len(part.rows)
