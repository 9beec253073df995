# Figures and the claims table, from statistics files only: a figure tweak never retrains.


rule hmm_figure:
    input:
        unpack(hmm_stats_files),
    output:
        pdf=report(
            "results/hmm/figures/{fig}.pdf",
            caption="../../workflow/report/hmm/figure.rst",
            category="HMM",
            subcategory="{fig}",
            labels={"figure": "{fig}", "format": "PDF"},
        ),
        png=report(
            "results/hmm/figures/{fig}.png",
            caption="../../workflow/report/hmm/figure.rst",
            category="HMM",
            subcategory="{fig}",
            labels={"figure": "{fig}", "format": "PNG"},
        ),
        sidecar="results/hmm/figures/{fig}.prov.json",
    log:
        "logs/hmm/figure/{fig}.log",
    wildcard_constraints:
        fig="|".join(STUDIES["hmm"].figures),
    conda:
        "../../envs/noisyrnn.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        settings=settings_param("hmm", "figure"),
        code=code_param("hmm", "figure"),
    script:
        "../../workflow/scripts/hmm/figure.py"


rule hmm_claims:
    input:
        unpack(hmm_stats_files),
    output:
        csv=report(
            "results/hmm/claims.csv",
            caption="../../workflow/report/hmm/claims.rst",
            category="HMM",
            subcategory="Claims",
            labels={"table": "claims", "format": "CSV"},
        ),
        md=report(
            "results/hmm/claims.md",
            caption="../../workflow/report/hmm/claims.rst",
            category="HMM",
            subcategory="Claims",
            labels={"table": "claims", "format": "Markdown"},
        ),
        csv_sidecar="results/hmm/claims.csv.prov.json",
        md_sidecar="results/hmm/claims.md.prov.json",
    log:
        "logs/hmm/claims.log",
    conda:
        "../../envs/noisyrnn.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        settings=settings_param("hmm", "claims"),
        code=code_param("hmm", "claims"),
    script:
        "../../workflow/scripts/hmm/claims.py"
