#!/usr/bin/env bash
# One short script for a GPU machine (the device tool runs it from the repository root):
# the CUDA tests, then the population and paper-scale training benchmarks on the GPU (replay,
# stm and hmm).
# Numbers go to $OUT (or ./gpu_results) for the README.
set -u
OUT=${OUT:-gpu_results}
mkdir -p "$OUT"
PY=${PY:-.venv/bin/python}
nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1
$PY -m pytest -q tests/unit/core/test_population.py tests/unit/core/test_bptt.py \
    tests/unit/core/test_provenance.py 2>&1 | tail -5 | tee "$OUT/cuda_tests.txt"
cd benchmarks
# paper-scale replay training: the 5 seeds of one network as one population, and one network
timeout 240 ../$PY bench_training.py --device cuda --population 5 --iters 10 --warmup 3 \
    2>&1 | tee "../$OUT/bench_training_k5.txt"
timeout 120 ../$PY bench_training.py --device cuda --iters 10 --warmup 3 \
    2>&1 | tee "../$OUT/bench_training_k1.txt"
# short-term-memory shapes up to 16384 networks
timeout 300 ../$PY bench_population.py --device cuda --only stm --ks 1 64 1024 4096 16384 \
    --memory-mb 100000 --epochs 20 2>&1 | tee "../$OUT/bench_population_stm.txt"
# hmm: paper-size training steps (2-state and cyclic reference models, batch 4096, 3 seeds)
cd ..
timeout 180 $PY benchmarks/bench_hmm.py --config config/config.yaml config/paper.yaml --hmm chain2 \
    --device cuda --batches 256 4096 --steps 10 2>&1 | tee "$OUT/bench_hmm_chain2.txt"
timeout 120 $PY benchmarks/bench_hmm.py --config config/config.yaml config/paper.yaml --hmm cyclic \
    --device cuda --batches 4096 --steps 10 2>&1 | tee "$OUT/bench_hmm_cyclic.txt"
