# Statistics per task over every seed, network and replay variant; the Gauss-Markov toy.
# Figures and claims read these files only.


rule replay_stats:
    input:
        unpack(replay_stats_inputs),
    output:
        nc="results/replay/stats/{task}.nc",
    log:
        "logs/replay/stats/{task}.log",
    benchmark:
        "results/replay/benchmarks/stats/{task}.tsv"
    wildcard_constraints:
        task=REPLAY_WILDCARDS["task"],
    conda:
        "../../envs/noisyrnn.yaml"
    threads: 1
    resources:
        mem_mb=replay_stats_mem_mb,
        runtime=120,
    params:
        settings=settings_param("replay", "stats"),
        code=code_param("replay", "stats"),
    script:
        "../../workflow/scripts/replay/stats.py"


rule replay_gauss_markov:
    output:
        nc="results/replay/stats/gauss_markov.nc",
    log:
        "logs/replay/stats/gauss_markov.log",
    conda:
        "../../envs/noisyrnn.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        settings=settings_param("replay", "gauss_markov"),
        code=code_param("replay", "gauss_markov"),
    script:
        "../../workflow/scripts/replay/gauss_markov.py"
