"""What every study shares: the noisy cell, the trainer, I/O with provenance, the audit,
config loading, the inference and claims engine, figure style and the device choice.

Core never imports a study: studies are found by name (:mod:`noisyrnn.core.study`)."""
