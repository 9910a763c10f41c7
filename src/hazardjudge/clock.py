"""The inspector's calendar: "today" is the date in China, whatever the server's time zone.

A server running on UTC would otherwise judge an inspection made before 08:00 in China
under the previous day's criteria, and on the day a standard takes effect that picks
the wrong version. China keeps one time zone without summer time, so a fixed offset
needs no time-zone database.
"""

from __future__ import annotations

import datetime as dt

CHINA = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")


def today(now: dt.datetime | None = None) -> dt.date:
    """China's date at ``now`` (an aware datetime; default: this instant)."""
    return (now or dt.datetime.now(CHINA)).astimezone(CHINA).date()
