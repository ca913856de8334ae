"""The facade ``Tickwork``, split by concern: jobs, pausing, runs, control (life cycle and the
scheduler as a whole), sync (code and job-file jobs), queries; ``specs`` holds the pure
translations between add_job calls, JobSpecs and stored records."""

from __future__ import annotations

from tickwork.jobspec import JobSpec, make_trigger
from tickwork.service.facade import Tickwork
from tickwork.service.specs import spec_of

__all__ = ["JobSpec", "Tickwork", "make_trigger", "spec_of"]
