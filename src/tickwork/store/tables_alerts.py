"""Tables of alerts: channels (where messages go; secrets sealed by the vault), rules (what
raises an alert), the per rule-and-job state (dedupe window, alerting flag), the alerts
themselves, the outbox of deliveries (one per alert and channel, claimed by nodes like runs)
and every delivery attempt."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, Column, Index, Integer, String, Table, Text

from tickwork.store.tables import _MYSQL, RowId, metadata

alert_channel = Table(
    "tw_alert_channel",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("kind", String(16), nullable=False),  # email, dingtalk, wecom, feishu, slack, webhook
    Column("description", Text, nullable=False),
    Column("language", String(8), nullable=False),  # en, zh-CN
    Column("public", JSON, nullable=False),  # what may be shown (host, recipients)
    Column("secret", Text, nullable=True),  # sealed JSON: webhook URL, signing secret
    Column("enabled", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(100), nullable=True),
    Column("updated_at", BigInteger, nullable=False),
    Column("updated_by", String(100), nullable=True),
    **_MYSQL,
)

alert_rule = Table(
    "tw_alert_rule",
    metadata,
    Column("id", String(63), primary_key=True),
    Column("description", Text, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("scope", String(8), nullable=False),  # job, group, tag, all
    Column("scope_value", String(191), nullable=True),
    Column("params", JSON, nullable=False),
    Column("severity", String(10), nullable=False),
    Column("dedupe_s", Integer, nullable=False),
    Column("quiet", JSON, nullable=True),  # {"start": "22:00", "end": "07:00", "timezone": ...}
    Column("channels", JSON, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(100), nullable=True),
    Column("updated_at", BigInteger, nullable=False),
    Column("updated_by", String(100), nullable=True),
    **_MYSQL,
)

# One row per rule and job (job "*" for rules not about one job): locked by whoever records an
# event of that pair, so nodes agree on the dedupe window and on what is alerting.
alert_state = Table(
    "tw_alert_state",
    metadata,
    Column("rule_id", String(63), primary_key=True),
    Column("job_id", String(191), primary_key=True),
    Column("window_until", BigInteger, nullable=False),
    Column("suppressed", Integer, nullable=False),
    Column("alerting", Boolean, nullable=False),
    Column("last_event_at", BigInteger, nullable=True),
    Index(None, "job_id"),
    **_MYSQL,
)

alert = Table(
    "tw_alert",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("rule_id", String(63), nullable=True),  # None: a channel's test message
    Column("kind", String(32), nullable=False),  # the rule's kind, summary, recovery, test
    Column("job_id", String(191), nullable=True),
    Column("run_id", BigInteger, nullable=True),
    Column("severity", String(10), nullable=False),
    Column("status", String(16), nullable=False),  # queued, deduplicated
    Column("facts", JSON, nullable=False),  # what the messages say
    Column("created_at", BigInteger, nullable=False),
    Index(None, "created_at"),
    Index(None, "job_id", "id"),
    Index(None, "rule_id", "id"),
    **_MYSQL,
)

# The outbox: written in the transaction that records the run outcome; claimed by one node.
alert_delivery = Table(
    "tw_alert_delivery",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("alert_id", BigInteger, nullable=False),
    Column("channel", String(63), nullable=False),
    Column("status", String(12), nullable=False),  # pending, sending, delivered, failed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", BigInteger, nullable=False),
    Column("lease_until", BigInteger, nullable=True),
    Column("node_id", String(64), nullable=True),
    Column("delivered_at", BigInteger, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Index(None, "status", "next_attempt_at"),
    Index(None, "alert_id"),
    **_MYSQL,
)

alert_attempt = Table(
    "tw_alert_attempt",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("delivery_id", BigInteger, nullable=False),
    Column("alert_id", BigInteger, nullable=False),
    Column("channel", String(63), nullable=False),
    Column("node_id", String(64), nullable=True),
    Column("started_at", BigInteger, nullable=False),
    Column("finished_at", BigInteger, nullable=True),
    Column("ok", Boolean, nullable=True),  # None while the send is in flight
    Column("status_code", Integer, nullable=True),
    Column("response", Text, nullable=True),  # an excerpt, secrets masked
    Column("error", Text, nullable=True),
    Index(None, "channel", "started_at"),  # the rate limits count recent attempts
    Index(None, "delivery_id"),
    Index(None, "started_at"),
    **_MYSQL,
)
