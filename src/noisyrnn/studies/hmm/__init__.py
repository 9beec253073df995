"""Study ``hmm`` (HMM.md): noise-driven ReLU RNNs trained with a Sinkhorn divergence to emulate
hidden Markov models, and the mechanism they learn (fixed point, orbits, residency-time regions,
kick neurons found by rule, the training bifurcation)."""
