# Noisy-RNN replay: leakage, adaptation and momentum.
#
#   snakemake --profile profiles/local                          default scale (config/config.yaml)
#   snakemake --profile profiles/local --configfile config/smoke.yaml   tiny, minutes
#   snakemake --profile profiles/slurm --configfile config/paper.yaml   GPU / HPC
#   snakemake fig3_adaptation                                   one figure (and what it needs)
#
# Paths and entry points: docs/design.md. Rules stay declarative; logic is in src/rnnreplay.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "rules/common.smk"


SCHEMA = Path(workflow.basedir) / "config" / "schema.yaml"
validate_config(config, SCHEMA)
record_configfiles(SCHEMA)


include: "rules/datasets.smk"
include: "rules/train.smk"
include: "rules/replay.smk"
include: "rules/stats.smk"
include: "rules/figures.smk"


rule all:
    default_target: True
    input:
        all_targets,
    localrule: True


rule fig1_tasks:
    input:
        figure_files("fig1_tasks"),
    localrule: True


rule fig2_leakage:
    input:
        figure_files("fig2_leakage"),
    localrule: True


rule fig3_adaptation:
    input:
        figure_files("fig3_adaptation"),
    localrule: True


rule fig4_momentum:
    input:
        figure_files("fig4_momentum"),
    localrule: True


rule fig5_placecells:
    input:
        figure_files("fig5_placecells"),
    localrule: True


rule fig6_langevin:
    input:
        figure_files("fig6_langevin"),
    localrule: True
