# HMM data, one population-training job per (HMM, model) with every seed, the per-model
# analysis and the per-HMM statistics. GPU requests come from the profile, never from here.


rule hmm_data:
    output:
        nc="results/hmm/data/{hmm}.nc",
    log:
        "logs/hmm/data/{hmm}.log",
    wildcard_constraints:
        hmm=HMM_WILDCARDS["hmm"],
    conda:
        "../../envs/noisyrnn.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        settings=settings_param("hmm", "data"),
        code=code_param("hmm", "data"),
    script:
        "../../workflow/scripts/hmm/data.py"


rule hmm_train:
    input:
        data="results/hmm/data/{hmm}.nc",
    output:
        nc="results/hmm/train/{hmm}/{model}.nc",
    log:
        "logs/hmm/train/{hmm}/{model}.log",
    benchmark:
        "results/hmm/benchmarks/train/{hmm}/{model}.tsv"
    wildcard_constraints:
        hmm=HMM_WILDCARDS["hmm"],
        model=HMM_WILDCARDS["model"],
    conda:
        "../../envs/noisyrnn.yaml"
    threads: 1
    resources:
        mem_mb=hmm_train_mem_mb,
        runtime=600,
    params:
        settings=settings_param("hmm", "train"),
        code=code_param("hmm", "train"),
    script:
        "../../workflow/scripts/hmm/train.py"


rule hmm_analyse:
    input:
        data="results/hmm/data/{hmm}.nc",
        training="results/hmm/train/{hmm}/{model}.nc",
    output:
        nc="results/hmm/analysis/{hmm}/{model}.nc",
    log:
        "logs/hmm/analyse/{hmm}/{model}.log",
    benchmark:
        "results/hmm/benchmarks/analyse/{hmm}/{model}.tsv"
    wildcard_constraints:
        hmm=HMM_WILDCARDS["hmm"],
        model=HMM_WILDCARDS["model"],
    conda:
        "../../envs/noisyrnn.yaml"
    threads: 1
    resources:
        mem_mb=hmm_analyse_mem_mb,
        runtime=120,
    params:
        settings=settings_param("hmm", "analyse"),
        code=code_param("hmm", "analyse"),
    script:
        "../../workflow/scripts/hmm/analyse.py"


rule hmm_stats:
    input:
        unpack(hmm_stats_inputs),
    output:
        nc="results/hmm/stats/{hmm}.nc",
    log:
        "logs/hmm/stats/{hmm}.log",
    wildcard_constraints:
        hmm=HMM_WILDCARDS["hmm"],
    conda:
        "../../envs/noisyrnn.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        settings=settings_param("hmm", "stats"),
        code=code_param("hmm", "stats"),
    script:
        "../../workflow/scripts/hmm/stats.py"
