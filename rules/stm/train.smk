# Task files, one population-training job per (family, job), and the per-network analysis.
# A job trains every (lr, delay, seed) of its share of the family's learning rates as one
# batched population (delays padded to the longest trial with per-network loss masks; exact,
# since the cell is causal). GPU requests come from the profile, never from here.


rule stm_task:
    output:
        nc="results/stm/tasks/{family}.nc",
    log:
        "logs/stm/task/{family}.log",
    wildcard_constraints:
        family=STM_WILDCARDS["family"],
    conda:
        "../../envs/noisyrnn.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        settings=settings_param("stm", "task"),
        code=code_param("stm", "task"),
    script:
        "../../workflow/scripts/stm/task.py"


rule stm_train:
    input:
        task="results/stm/tasks/{family}.nc",
    output:
        nc="results/stm/train/{family}/job{job}.nc",
    log:
        "logs/stm/train/{family}/job{job}.log",
    benchmark:
        "results/stm/benchmarks/train/{family}/job{job}.tsv"
    wildcard_constraints:
        family=STM_WILDCARDS["family"],
        job=STM_WILDCARDS["job"],
    conda:
        "../../envs/noisyrnn.yaml"
    threads: 1
    resources:
        mem_mb=stm_train_mem_mb,
        runtime=240,
    params:
        settings=settings_param("stm", "train"),
        code=code_param("stm", "train"),
    script:
        "../../workflow/scripts/stm/train.py"


rule stm_analyse:
    input:
        task="results/stm/tasks/{family}.nc",
        training="results/stm/train/{family}/job{job}.nc",
    output:
        nc="results/stm/analysis/{family}/job{job}.nc",
    log:
        "logs/stm/analyse/{family}/job{job}.log",
    benchmark:
        "results/stm/benchmarks/analyse/{family}/job{job}.tsv"
    wildcard_constraints:
        family=STM_WILDCARDS["family"],
        job=STM_WILDCARDS["job"],
    conda:
        "../../envs/noisyrnn.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        settings=settings_param("stm", "analyse"),
        code=code_param("stm", "analyse"),
    script:
        "../../workflow/scripts/stm/analyse.py"


rule stm_stats:
    input:
        unpack(stm_stats_inputs),
    output:
        nc="results/stm/stats/{family}.nc",
    log:
        "logs/stm/stats/{family}.log",
    benchmark:
        "results/stm/benchmarks/stats/{family}.tsv"
    wildcard_constraints:
        family=STM_WILDCARDS["family"],
    conda:
        "../../envs/noisyrnn.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        settings=settings_param("stm", "stats"),
        code=code_param("stm", "stats"),
    script:
        "../../workflow/scripts/stm/stats.py"


rule stm_theory:
    output:
        nc="results/stm/stats/theory.nc",
    log:
        "logs/stm/theory.log",
    conda:
        "../../envs/noisyrnn.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        settings=settings_param("stm", "theory"),
        code=code_param("stm", "theory"),
    script:
        "../../workflow/scripts/stm/theory.py"
