# Replay study (SCIENCE.md): datasets -> training per variant and seed -> zero-input replay ->
# statistics per task -> figures fig1..fig6 and the claims table. Outputs under results/replay/.


include: "common.smk"
include: "datasets.smk"
include: "train.smk"
include: "replay.smk"
include: "stats.smk"
include: "figures.smk"
