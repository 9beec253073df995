# HMM-emulation study (HMM.md): HMM data files -> population training per (HMM, model) ->
# per-model analysis (emission metrics, mechanism, training dynamics) -> statistics per HMM ->
# figures and the claims table. Outputs under results/hmm/.


include: "common.smk"
include: "train.smk"
include: "figures.smk"
