# Figures and the claims table, from statistics files only: a figure tweak never retrains.


rule stm_figure:
    input:
        unpack(stm_figure_inputs),
    output:
        pdf=report(
            "results/stm/figures/{fig}.pdf",
            caption="../../workflow/report/stm/figure.rst",
            category="STM",
            subcategory="{fig}",
            labels={"figure": "{fig}", "format": "PDF"},
        ),
        png=report(
            "results/stm/figures/{fig}.png",
            caption="../../workflow/report/stm/figure.rst",
            category="STM",
            subcategory="{fig}",
            labels={"figure": "{fig}", "format": "PNG"},
        ),
        sidecar="results/stm/figures/{fig}.prov.json",
    log:
        "logs/stm/figure/{fig}.log",
    wildcard_constraints:
        fig="|".join(STUDIES["stm"].figures),
    conda:
        "../../envs/noisyrnn.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        settings=settings_param("stm", "figure"),
        code=code_param("stm", "figure"),
    script:
        "../../workflow/scripts/stm/figure.py"


rule stm_claims:
    input:
        unpack(stm_claims_inputs),
    output:
        csv=report(
            "results/stm/claims.csv",
            caption="../../workflow/report/stm/claims.rst",
            category="STM",
            subcategory="Claims",
            labels={"table": "claims", "format": "CSV"},
        ),
        md=report(
            "results/stm/claims.md",
            caption="../../workflow/report/stm/claims.rst",
            category="STM",
            subcategory="Claims",
            labels={"table": "claims", "format": "Markdown"},
        ),
        csv_sidecar="results/stm/claims.csv.prov.json",
        md_sidecar="results/stm/claims.md.prov.json",
    log:
        "logs/stm/claims.log",
    conda:
        "../../envs/noisyrnn.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        settings=settings_param("stm", "claims"),
        code=code_param("stm", "claims"),
    script:
        "../../workflow/scripts/stm/claims.py"
