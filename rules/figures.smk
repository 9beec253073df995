# Figures fig1..fig6 and the claims table, from statistics files only: a figure tweak
# never retrains anything.


rule figure:
    input:
        unpack(figure_inputs),
    output:
        pdf=report(
            "results/figures/{fig}.pdf",
            caption="../workflow/report/figure.rst",
            category="Figures",
            subcategory="{fig}",
            labels={"figure": "{fig}", "format": "PDF"},
        ),
        png=report(
            "results/figures/{fig}.png",
            caption="../workflow/report/figure.rst",
            category="Figures",
            subcategory="{fig}",
            labels={"figure": "{fig}", "format": "PNG"},
        ),
        sidecar="results/figures/{fig}.prov.json",
    log:
        "logs/figure/{fig}.log",
    conda:
        "../envs/rnnreplay.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        settings=figure_settings,
        code=package_hash("figure"),
    script:
        "../workflow/scripts/figure.py"


rule claims:
    input:
        unpack(claims_inputs),
    output:
        csv=report(
            "results/claims.csv",
            caption="../workflow/report/claims.rst",
            category="Claims",
            labels={"table": "claims", "format": "CSV"},
        ),
        md=report(
            "results/claims.md",
            caption="../workflow/report/claims.rst",
            category="Claims",
            labels={"table": "claims", "format": "Markdown"},
        ),
    log:
        "logs/claims.log",
    conda:
        "../envs/rnnreplay.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        settings=claims_settings,
        code=package_hash("claims"),
    script:
        "../workflow/scripts/claims.py"
