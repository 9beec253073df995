# Figures fig1..fig6 and the claims table, from statistics files only: a figure tweak
# never retrains anything.


rule replay_figure:
    input:
        unpack(replay_figure_inputs),
    output:
        pdf=report(
            "results/replay/figures/{fig}.pdf",
            caption="../../workflow/report/replay/figure.rst",
            category="Replay",
            subcategory="{fig}",
            labels={"figure": "{fig}", "format": "PDF"},
        ),
        png=report(
            "results/replay/figures/{fig}.png",
            caption="../../workflow/report/replay/figure.rst",
            category="Replay",
            subcategory="{fig}",
            labels={"figure": "{fig}", "format": "PNG"},
        ),
        sidecar="results/replay/figures/{fig}.prov.json",
    log:
        "logs/replay/figure/{fig}.log",
    wildcard_constraints:
        fig="|".join(STUDIES["replay"].figures),
    conda:
        "../../envs/noisyrnn.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        settings=settings_param("replay", "figure"),
        code=code_param("replay", "figure"),
    script:
        "../../workflow/scripts/replay/figure.py"


rule replay_claims:
    input:
        unpack(replay_claims_inputs),
    output:
        csv=report(
            "results/replay/claims.csv",
            caption="../../workflow/report/replay/claims.rst",
            category="Replay",
            subcategory="Claims",
            labels={"table": "claims", "format": "CSV"},
        ),
        md=report(
            "results/replay/claims.md",
            caption="../../workflow/report/replay/claims.rst",
            category="Replay",
            subcategory="Claims",
            labels={"table": "claims", "format": "Markdown"},
        ),
        csv_sidecar="results/replay/claims.csv.prov.json",
        md_sidecar="results/replay/claims.md.prov.json",
    log:
        "logs/replay/claims.log",
    conda:
        "../../envs/noisyrnn.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        settings=settings_param("replay", "claims"),
        code=code_param("replay", "claims"),
    script:
        "../../workflow/scripts/replay/claims.py"
