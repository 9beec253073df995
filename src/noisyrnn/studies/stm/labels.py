"""The stm study's outcome and mechanism labels: one home for their names and codes.

Codes are what the netCDF files store (integers on ``net``): 0 not learned (no learning or
unstable, STM.md §4), 1 limit cycle, 2 slow point; -1 where a label does not apply (the
mechanism of a network that did not learn).
"""

from __future__ import annotations

NOT_LEARNED, LC, SP = "not learned", "LC", "SP"
CLASS_CODES = {NOT_LEARNED: 0, LC: 1, SP: 2}
NOT_APPLICABLE = -1
OUTCOMES = ("learned", "unstable", "no_learning")
OUTCOME_CODES = {"learned": 1, "unstable": 0, "no_learning": 0}
