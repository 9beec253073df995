"""The stm study's steps: one module per rule, called by the thin scripts under
workflow/scripts/stm/. Each reads its settings, its inputs, and writes its outputs with the
provenance record it is given."""
