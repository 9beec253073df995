# One waking-path dataset per task (train and test splits), from tasks.generate.


rule dataset:
    output:
        nc="results/datasets/{task}.nc",
    log:
        "logs/dataset/{task}.log",
    benchmark:
        "results/benchmarks/dataset/{task}.tsv"
    conda:
        "../envs/rnnreplay.yaml"
    threads: 1
    resources:
        mem_mb=dataset_mem_mb,
        runtime=20,
    params:
        seed=dataset_seed,
        settings=dataset_settings,
        code=package_hash("dataset"),
    script:
        "../workflow/scripts/dataset.py"
