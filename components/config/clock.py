"""The day EKS's support calendar is read on: an input, never the machine's clock alone.

``FLEET_TODAY=YYYY-MM-DD`` (the plan and deploy commands' ``--today``) sets it, so a plan can be
rehearsed for a date and the tests pin one; unset, the machine's date. Nothing else in the program
reads a clock for the calendar.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping

from .errors import ConfigError

ENV = "FLEET_TODAY"


def today(environ: Mapping[str, str] | None = None) -> dt.date:
    value = (os.environ if environ is None else environ).get(ENV, "").strip()
    if not value:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ConfigError([f"{ENV}={value!r}: expected a date, YYYY-MM-DD (e.g. {dt.date.today().isoformat()})"]) from None


def now(environ: Mapping[str, str] | None = None) -> dt.datetime:
    """This moment in UTC, on ``today()``'s date: the machine's time of day, the calendar's day."""
    moment = dt.datetime.now(dt.UTC)
    day = today(environ)
    return moment.replace(year=day.year, month=day.month, day=day.day)
