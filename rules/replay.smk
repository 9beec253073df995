# Zero-input replay of one trained network: every (b_a, lambda_v) variant in one batch.


rule replay:
    input:
        dataset="results/datasets/{task}.nc",
        model="results/models/{task}/{net}/seed{seed}.pt",
    output:
        nc="results/replay/{task}/{net}/seed{seed}.nc",
    log:
        "logs/replay/{task}/{net}/seed{seed}.log",
    benchmark:
        "results/benchmarks/replay/{task}/{net}/seed{seed}.tsv"
    conda:
        "../envs/rnnreplay.yaml"
    threads: 1
    resources:
        mem_mb=replay_mem_mb,
        runtime=60,
    params:
        seed=seed_param,
        settings=replay_settings,
        code=package_hash("replay"),
    script:
        "../workflow/scripts/replay.py"
