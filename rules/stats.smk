# Statistics per task over every seed, network and replay variant; the Gauss-Markov toy.
# Figures and claims read these files only.


rule stats:
    input:
        unpack(stats_inputs),
    output:
        nc="results/stats/{task}.nc",
    log:
        "logs/stats/{task}.log",
    benchmark:
        "results/benchmarks/stats/{task}.tsv"
    conda:
        "../envs/rnnreplay.yaml"
    threads: 1
    resources:
        mem_mb=stats_mem_mb,
        runtime=120,
    params:
        settings=stats_settings,
        code=package_hash("stats"),
    script:
        "../workflow/scripts/stats.py"


rule gauss_markov:
    output:
        nc="results/stats/gauss_markov.nc",
    log:
        "logs/stats/gauss_markov.log",
    conda:
        "../envs/rnnreplay.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        settings=gauss_markov_settings,
        code=package_hash("gauss_markov"),
    script:
        "../workflow/scripts/gauss_markov.py"
