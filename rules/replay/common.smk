# Replay-study helpers: config views, input lists, checkpoint path and memory estimates.
# The config views come from the study's declaration (noisyrnn.studies.replay.study) and the
# one override merge (noisyrnn.studies.replay.sections).

import hashlib

from noisyrnn.studies.replay import groups as replay_groups
from noisyrnn.studies.replay import nets as replay_nets
from noisyrnn.studies.replay.sections import section as replay_section

REPLAY = config["replay"]
REPLAY_TASKS = replay_nets.TASKS


def replay_path(path):
    return results("replay", path)


def replay_seeds():
    return [int(s) for s in REPLAY["seeds"]]


def replay_population_size(wildcards):
    """Seeds of the job trained together (training.group_size; 0: by memory)."""
    return max(len(g) for g in replay_groups.seed_groups(REPLAY, wildcards.task))


def replay_model_paths(task, nets, suffix):
    return [
        replay_path(f"models/{task}/{net}/seed{seed}{suffix}")
        for net, seed in replay_nets.network_seeds(nets, replay_seeds())
    ]


def replay_stats_inputs(wildcards):
    task = wildcards.task
    nets = replay_nets.networks(REPLAY["training"], task)
    replayed = replay_nets.replay_networks(REPLAY["training"])
    return {
        "dataset": replay_path(f"datasets/{task}.nc"),
        "models": replay_model_paths(task, nets, ".pt"),
        "histories": replay_model_paths(task, nets, ".history.nc"),
        "replays": [
            replay_path(f"replay/{task}/{net}/seed{seed}.nc")
            for net, seed in replay_nets.network_seeds(replayed, replay_seeds())
        ],
    }


def replay_stats_files(names):
    """{name: path} for the configured tasks among ``names`` (and gauss_markov)."""
    return {
        name: replay_path(f"stats/{name}.nc")
        for name in names
        if name == "gauss_markov" or name in REPLAY["tasks"]
    }


# Statistics files each figure reads (figures.draw draws a placeholder for a missing task).
REPLAY_FIGURE_STATS = {
    "fig1_tasks": ("tmaze", "triangle", "box"),
    "fig2_leakage": ("tmaze", "triangle", "gauss_markov"),
    "fig3_adaptation": ("tmaze", "triangle", "box"),
    "fig4_momentum": ("tmaze", "triangle", "box"),
    "fig5_placecells": ("box",),
    "fig6_langevin": ("tmaze", "triangle", "box"),
}


def replay_figure_inputs(wildcards):
    return replay_stats_files(REPLAY_FIGURE_STATS[wildcards.fig])


def replay_claims_inputs(wildcards):
    return replay_stats_files([*REPLAY_TASKS, "gauss_markov"])


def replay_checkpoint(wildcards):
    """Resumable training checkpoint (training.checkpoint_every > 0; one per population, the
    group's seeds appended to this name by the step). Not an output, so a
    failed or killed job leaves it for the rerun; the name carries a digest of the training
    settings and code, so a changed config or package never resumes a stale state."""
    digest = provenance.to_json(
        {
            "settings": settings.step_settings("replay", "train", config, wildcards),
            "code": code_param("replay", "train"),
        }
    )
    short = hashlib.sha256(digest.encode()).hexdigest()[:12]
    return replay_path(f"models/{wildcards.task}/{wildcards.net}/train.{short}.ckpt")


# Memory estimates from the config's scale (MB).
def _replay_dataset_mb(task):
    cfg = REPLAY["task"].get(task) or {}
    n = cfg.get("n_train", 1000) + cfg.get("n_test", 200)
    steps = cfg.get("seq_len", 100) + 1
    code = cfg.get("n_place_cells", 512) if task == "box" else 2
    return 4 * n * steps * (code + 4) / 1e6


def _replay_sampling_mb(task):
    sampling = replay_section(REPLAY, task, "replay")
    model = replay_section(REPLAY, task, "model")
    variants = len(sampling["b_a"]) * len(sampling["lambda_v"])
    positions = variants * sampling["n_traj"] * (sampling["steps"] + 1) * 2 * 2
    hidden = (
        variants
        * sampling["hidden_trials"]
        * (sampling["steps"] // sampling["hidden_every"] + 1)
        * model["n_hidden"]
    )
    return 4 * (positions + hidden) / 1e6


def replay_dataset_mem_mb(wildcards, attempt):
    return scaled_mb(1500 + 3 * _replay_dataset_mb(wildcards.task), attempt)


def replay_train_mem_mb(wildcards, attempt):
    task = wildcards.task
    group = replay_population_size(wildcards)
    net_mb = replay_groups.network_memory_mb(REPLAY, task)
    return scaled_mb(2000 + 4 * _replay_dataset_mb(task) + group * net_mb, attempt)


def replay_replay_mem_mb(wildcards, attempt):
    task = wildcards.task
    mb = 2000 + 2 * _replay_dataset_mb(task) + 4 * _replay_sampling_mb(task)
    return scaled_mb(mb, attempt)


def replay_stats_mem_mb(wildcards, attempt):
    task = wildcards.task
    mb = 3000 + 2 * _replay_dataset_mb(task) + 6 * _replay_sampling_mb(task)
    return scaled_mb(mb, attempt)


REPLAY_WILDCARDS = {
    "task": "|".join(REPLAY_TASKS),
    "net": replay_nets.NET_PATTERN,
    "seed": r"[0-9]+",
}
