"""Evaluation sets and their scoring (recall, citations, EM/F1), shared by `firstline eval` and
`firstline router calibrate`."""
