# Zero-input replay of one trained network: every (b_a, lambda_v) variant in one batch.


rule replay_replay:
    input:
        dataset="results/replay/datasets/{task}.nc",
        model="results/replay/models/{task}/{net}/seed{seed}.pt",
    output:
        nc="results/replay/replay/{task}/{net}/seed{seed}.nc",
    log:
        "logs/replay/replay/{task}/{net}/seed{seed}.log",
    benchmark:
        "results/replay/benchmarks/replay/{task}/{net}/seed{seed}.tsv"
    wildcard_constraints:
        task=REPLAY_WILDCARDS["task"],
        net=REPLAY_WILDCARDS["net"],
        seed=REPLAY_WILDCARDS["seed"],
    conda:
        "../../envs/noisyrnn.yaml"
    threads: 1
    resources:
        mem_mb=replay_replay_mem_mb,
        runtime=60,
    params:
        seed=seed_param("replay", "replay"),
        settings=settings_param("replay", "replay"),
        code=code_param("replay", "replay"),
    script:
        "../../workflow/scripts/replay/replay.py"
