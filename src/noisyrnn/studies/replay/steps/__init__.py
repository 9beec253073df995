"""File-to-file steps of the replay study, one module per rule, so that each step's code hash
covers what it runs and no more. The workflow scripts call these and nothing else: each takes
the step's ``settings`` param (the config it reads, built in ``study.py``), the wildcards and
the paths, and writes one artefact with the job's provenance record through ``core.io``."""
