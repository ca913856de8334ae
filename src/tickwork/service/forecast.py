"""``Tickwork.forecast``: the load forecast of the stored jobs (``tickwork.forecast``), read in
one query of the active jobs' triggers; nothing is written."""

from __future__ import annotations

import gc
from typing import Any

from sqlalchemy import Text, cast, false, select

from tickwork.forecast import Forecast, check_window, compute
from tickwork.service.base import FacadeBase
from tickwork.store.tables import job


class ForecastMixin(FacadeBase):
    def forecast(
        self,
        hours: int = 24,
        bucket_s: int = 60,
        *,
        hot: int | None = None,
        group: str | None = None,
    ) -> Forecast:
        """Fires of the active jobs (not paused, with a next fire) in the ``hours`` from
        now, counted per ``bucket_s`` seconds; the hot spots (buckets with more than ``hot``
        fires; by default 4 times the mean) with their jobs, and the heat map the ``H``
        form would give them. ``group`` limits it to one group."""
        check_window(hours, bucket_s)
        # The spec as stored text: jobs whose specs differ only by their seed share one
        # computation without a JSON parse each (tickwork.forecast).
        # (No value from the caller in the SQL: it is sent with its literals inlined.)
        query = select(job.c.id, cast(job.c.trigger, Text), job.c.group_name).where(
            job.c.paused == false(), job.c.next_fire_at.is_not(None)
        )
        # 100,000 rows and their groups are short-lived objects without cycles: the cyclic
        # collector's passes over them cost a third of the call (bench/forecast.py), so it
        # pauses for the call (reference counting still frees everything).
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._forecast(query, hours, bucket_s, hot, group)
        finally:
            if collecting:
                gc.enable()

    def _forecast(
        self, query: Any, hours: int, bucket_s: int, hot: int | None, group: str | None
    ) -> Forecast:
        with self.store.db.read() as conn:
            # Through the driver's cursor: 100,000 rows as plain tuples cost a third of
            # what result rows do (bench/forecast.py).
            sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.execute(sql)
                rows = cursor.fetchall()
            finally:
                cursor.close()
        return compute(
            ((r[0], r[1]) for r in rows if group is None or r[2] == group),
            now_s=self.clock.now_us() // 1_000_000,
            hours=hours,
            bucket_s=bucket_s,
            threshold=hot,
        )
