# Noisy recurrent networks: one workflow, three studies (replay, stm, hmm), one shared core.
#
#   snakemake --profile profiles/local                                   default scale
#   snakemake --profile profiles/local --configfile=config/smoke.yaml    tiny, minutes
#   snakemake --profile profiles/slurm --configfile=config/paper.yaml    GPU / HPC
#   snakemake fig3_adaptation                                            one figure
#
# `studies:` in the config selects the studies; each one's rules are in rules/<study>/ and its
# code in src/noisyrnn/studies/<study>/. Layout and DAGs: docs/design.md.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "rules/common.smk"


validate_config(config)
record_configfiles()


for _study in selected_studies():

    include: f"rules/{_study}/rules.smk"


include: "rules/targets.smk"


onstart:
    on_start()


onsuccess:
    on_success()


rule all:
    default_target: True
    input:
        all_targets(),
    localrule: True
