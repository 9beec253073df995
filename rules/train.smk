# One network per (task, training variant, seed). GPU requests come from the profile
# (set-resources), never from here: the code uses CUDA when present, the CPU otherwise.


rule train:
    input:
        dataset="results/datasets/{task}.nc",
    output:
        model="results/models/{task}/{net}/seed{seed}.pt",
        sidecar="results/models/{task}/{net}/seed{seed}.pt.prov.json",
        history="results/models/{task}/{net}/seed{seed}.history.nc",
    log:
        "logs/train/{task}/{net}/seed{seed}.log",
    benchmark:
        "results/benchmarks/train/{task}/{net}/seed{seed}.tsv"
    conda:
        "../envs/rnnreplay.yaml"
    threads: 1
    resources:
        mem_mb=train_mem_mb,
        runtime=120,
    params:
        seed=seed_param,
        settings=train_settings,
        checkpoint=checkpoint_path,
        code=package_hash("train"),
    script:
        "../workflow/scripts/train.py"
