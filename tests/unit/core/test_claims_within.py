"""Interval-inclusion parts: a published value ± margin, or a theory range, against an
estimate's own interval."""

from __future__ import annotations

import numpy as np
import pytest

from noisyrnn.core import claims as engine

RULE = engine.Rule()


@pytest.mark.parametrize("lo,hi,verdict", [
    (2.3, 2.9, engine.SUPPORTED),        # inside [2.22, 3.22]
    (3.3, 3.9, engine.CONTRADICTED),     # wholly above
    (1.0, 2.0, engine.CONTRADICTED),     # wholly below
    (2.0, 2.9, engine.INCONCLUSIVE),     # straddles the lower bound
    (1.0, 4.0, engine.INCONCLUSIVE),     # wider than the range: no verdict from a vague estimate
    (np.nan, np.nan, engine.INCONCLUSIVE),
])
def test_within_verdicts(lo, hi, verdict):
    part = engine.within("beta", "β within published 2.72 ± 0.5", 2.6, lo, hi, 5, (2.22, 3.22))
    r = engine.row("A1", "stm", "no post", [part], RULE)
    assert r["verdict"] == verdict
    assert np.isnan(r["p"]) and r["rule"].startswith("interval inclusion")
    assert (r["ci_lo"], r["ci_hi"]) == pytest.approx((lo, hi), nan_ok=True)


def test_within_parts_combine_and_round_trip_through_the_parts_cell():
    a = engine.within("beta_LC", "in [2, 3]", 2.5, 2.2, 2.8, 6, (2, 3))
    b = engine.within("beta_SP", "in [4, 5]", 3.0, 2.5, 3.5, 6, (4, 5))
    r = engine.row("A5", "stm", "no post", [a, b], RULE, combine="all")
    assert r["verdict"] == engine.CONTRADICTED  # ALL: one part contradicted
    parts = engine.parse_parts(r["parts"])
    assert [p["verdict"] for p in parts] == [engine.SUPPORTED, engine.CONTRADICTED]
    assert parts[0]["claimed"] == "claimed between 2 and 3"
    df = engine.table([r])
    assert np.isnan(df["q"].iloc[0])  # no p: not among the BH-tested rows


def test_sidecar_outputs_must_be_where_write_puts_them(tmp_path):
    table = str(tmp_path / "claims.csv")
    engine.check_sidecar_outputs([(table, table + ".prov.json")])
    with pytest.raises(ValueError, match=r"rule output .*claims\.prov\.json: the sidecar of"):
        engine.check_sidecar_outputs([(table, str(tmp_path / "claims.prov.json"))])
