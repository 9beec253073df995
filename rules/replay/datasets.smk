# One waking-path dataset per task (train and test splits).


rule replay_dataset:
    output:
        nc="results/replay/datasets/{task}.nc",
    log:
        "logs/replay/dataset/{task}.log",
    benchmark:
        "results/replay/benchmarks/dataset/{task}.tsv"
    wildcard_constraints:
        task=REPLAY_WILDCARDS["task"],
    conda:
        "../../envs/noisyrnn.yaml"
    threads: 1
    resources:
        mem_mb=replay_dataset_mem_mb,
        runtime=20,
    params:
        seed=seed_param("replay", "dataset"),
        settings=settings_param("replay", "dataset"),
        code=code_param("replay", "dataset"),
    script:
        "../../workflow/scripts/replay/dataset.py"
