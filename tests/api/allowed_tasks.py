"""A module that a job file names: its other functions may then be named by API jobs too."""

from __future__ import annotations


def first() -> str:
    return "first"


def second() -> str:
    return "second"
