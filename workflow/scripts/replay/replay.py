"""Rule replay_replay: zero-input replay of one network -> noisyrnn.studies.replay.steps.replay."""

from noisyrnn.core import device, lifeline, provenance
from noisyrnn.studies.replay.steps import replay

sm = snakemake  # noqa: F821  (injected by Snakemake's script directive)
provenance.log_to(sm.log[0])
lifeline.watch()  # stop if the workflow dies
device.set_threads(sm.threads)
prov = provenance.record(sm)
replay.run_replay(
    sm.params.settings, sm.wildcards.task, sm.wildcards.net, sm.params.seed, sm.input.dataset,
    sm.input.model, sm.output.nc, prov,
)
