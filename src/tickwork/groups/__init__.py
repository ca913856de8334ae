"""Groups of jobs as objects: description, owner, default time zone and default policies."""

from __future__ import annotations

from tickwork.groups.model import DEFAULT_FIELDS, GroupRecord, check_group_name

__all__ = ["DEFAULT_FIELDS", "GroupRecord", "check_group_name"]
