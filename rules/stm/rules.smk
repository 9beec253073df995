# Short-term-memory study (STM.md): task files -> population training per family and job ->
# per-network analysis (outcome class, mechanism index, second label) -> statistics per
# family (phase fractions, critical delays, the scaling exponent) and the theory curves ->
# figures and the claims table. Outputs under results/stm/.


include: "common.smk"
include: "train.smk"
include: "figures.smk"
