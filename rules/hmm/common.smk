# hmm helpers: the HMMs and models a config holds, from the study's one home of identities
# (noisyrnn.studies.hmm.grid).

from noisyrnn.studies.hmm import grid as hmm_grid

HMM = config["hmm"]
HMM_NAMES = hmm_grid.hmms(HMM)
HMM_WILDCARDS = {"hmm": "|".join(hmm_grid.FAMILIES), "model": r"h[0-9]+_d[0-9]+"}


def hmm_path(path):
    return results("hmm", path)


def hmm_stats_inputs(wildcards):
    name = wildcards.hmm
    return {
        "data": hmm_path(f"data/{name}.nc"),
        **{
            f"analysis_{m}": hmm_path(f"analysis/{name}/{m}.nc")
            for m in hmm_grid.models(HMM, name)
        },
    }


def hmm_stats_files(wildcards=None):
    """{HMM name: path} of every statistics file of the configured HMMs."""
    return {name: hmm_path(f"stats/{name}.nc") for name in HMM_NAMES}


def hmm_train_mem_mb(wildcards, attempt):
    """The Sinkhorn cost matrices of every seed (batch² and validation² floats) dominate."""
    n_val = HMM["n_sequences"] // 3
    batch = min(HMM["training"]["batch_size"], n_val)
    seeds = HMM["training"]["seeds"]
    mb = 1000 + 4 * 4 * seeds * (batch**2 + n_val**2) / 1e6
    return scaled_mb(mb, attempt)


def hmm_analyse_mem_mb(wildcards, attempt):
    """The evaluation's n × n Sinkhorn plan in float64 (a few copies)."""
    n = HMM["evaluation"]["n"]
    return scaled_mb(1500 + 5 * 8 * n * n / 1e6, attempt)
