# One network per (task, training variant, seed). GPU requests come from the profile
# (set-resources), never from here: the code uses CUDA when present, the CPU otherwise.


rule replay_train:
    input:
        dataset="results/replay/datasets/{task}.nc",
    output:
        model="results/replay/models/{task}/{net}/seed{seed}.pt",
        sidecar="results/replay/models/{task}/{net}/seed{seed}.pt.prov.json",
        history="results/replay/models/{task}/{net}/seed{seed}.history.nc",
    log:
        "logs/replay/train/{task}/{net}/seed{seed}.log",
    benchmark:
        "results/replay/benchmarks/train/{task}/{net}/seed{seed}.tsv"
    wildcard_constraints:
        task=REPLAY_WILDCARDS["task"],
        net=REPLAY_WILDCARDS["net"],
        seed=REPLAY_WILDCARDS["seed"],
    conda:
        "../../envs/noisyrnn.yaml"
    threads: 1
    resources:
        mem_mb=replay_train_mem_mb,
        runtime=120,
    params:
        seed=seed_param("replay", "train"),
        settings=settings_param("replay", "train"),
        checkpoint=replay_checkpoint,
        code=code_param("replay", "train"),
    script:
        "../../workflow/scripts/replay/train.py"
