# One job per (task, training variant): every seed, trained as populations of
# training.group_size networks (0: as many as fit in training.group_memory_mb). Each network
# keeps its own model, sidecar and history. GPU requests come from the profile
# (set-resources), never from here: the code uses CUDA when present, the CPU otherwise.


rule replay_train:
    input:
        dataset="results/replay/datasets/{task}.nc",
    output:
        models=replay_model_paths("{task}", ["{net}"], ".pt"),
        sidecars=replay_model_paths("{task}", ["{net}"], ".pt.prov.json"),
        histories=replay_model_paths("{task}", ["{net}"], ".history.nc"),
    log:
        "logs/replay/train/{task}/{net}.log",
    benchmark:
        "results/replay/benchmarks/train/{task}/{net}.tsv"
    wildcard_constraints:
        task=REPLAY_WILDCARDS["task"],
        net=REPLAY_WILDCARDS["net"],
    conda:
        "../../envs/noisyrnn.yaml"
    threads: 1
    resources:
        mem_mb=replay_train_mem_mb,
        runtime=120,
        # networks per population: a resource, not a param, as results do not depend on it
        population=replay_population_size,
    params:
        seeds=replay_seeds(),
        settings=settings_param("replay", "train"),
        checkpoint=replay_checkpoint,
        code=code_param("replay", "train"),
    script:
        "../../workflow/scripts/replay/train.py"
