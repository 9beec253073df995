"""The hmm study's steps: one module per rule, called by the thin scripts under
workflow/scripts/hmm/. Each reads its settings and inputs and writes its outputs with the
provenance record it is given."""
