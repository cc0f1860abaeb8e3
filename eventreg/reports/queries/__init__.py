"""Every report the ministry reads, each built by ONE function that aggregates in SQL.

The dashboards and every download call the same function with the same `Filters`, so what a person sees
on screen and what they download agree exactly. Breakdowns come back as small lists (one row per group);
the comment and participant lists come back as generators that stream from the database with
`yield_per`, so a 100,000-comment consultation never sits in memory.

Which comments count: hidden ones (spam, abuse, personal data) and merged duplicates are left out of every
report, so a campaign merged into one comment is counted once and spam is never counted.

The package is split by what it holds: `filters` (what counts, and what can be chosen), `table` (the shape
of a report), `breakdowns` (counts by sex, region, sector, session, item, day) and `lists` (one row per
comment or registration).
"""

from eventreg.reports.queries.breakdowns import *  # noqa: F403
from eventreg.reports.queries.filters import *  # noqa: F403
from eventreg.reports.queries.lists import *  # noqa: F403
from eventreg.reports.queries.lists import _comment_list_select  # noqa: F401
from eventreg.reports.queries.table import *  # noqa: F403
