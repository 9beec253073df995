# stm helpers: the families and training jobs a config holds, from the study's one home of
# network identities (noisyrnn.studies.stm.grid).

from noisyrnn.studies.stm import grid as stm_grid

STM = config["stm"]
STM_FAMILIES = stm_grid.families(STM)
STM_WILDCARDS = {"family": "|".join(stm_grid.FAMILIES), "job": r"[0-9]+"}


def stm_path(path):
    return results("stm", path)


def stm_jobs(family):
    return list(range(stm_grid.n_jobs(STM, family)))


def stm_stats_inputs(wildcards):
    family = wildcards.family
    return {
        "task": stm_path(f"tasks/{family}.nc"),
        "training": [stm_path(f"train/{family}/job{j}.nc") for j in stm_jobs(family)],
        "analysis": [
            stm_path(f"analysis/{family}/job{j}.nc") for j in stm_jobs(family)
        ],
    }


def stm_stats_files():
    """{name: path} of every statistics file of the configured families, and the theory."""
    files = {f: stm_path(f"stats/{f}.nc") for f in STM_FAMILIES}
    files["theory"] = stm_path("stats/theory.nc")
    return files


def stm_figure_inputs(wildcards):
    return stm_stats_files()


def stm_claims_inputs(wildcards):
    return stm_stats_files()


def stm_train_mem_mb(wildcards, attempt):
    """Activations of the whole population over the longest trial, kept for BPTT."""
    nets = len(stm_grid.job_networks(STM, wildcards.family, int(wildcards.job)))
    fam = stm_grid.family_config(STM, wildcards.family)
    steps = (
        STM["t_in_ms"]
        + max(stm_grid.delays_ms(fam))
        + STM["t_resp_ms"]
        + STM["t_post_ms"]
    ) / STM["dt_ms"]
    batch = 2 * STM["copies_per_class"]
    n = STM["model"]["n_hidden"]
    mb = 800 + 6 * 4 * nets * batch * steps * n / 1e6
    return scaled_mb(mb, attempt)
