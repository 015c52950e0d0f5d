"""The application: the composition root that builds everything from settings, the CLI,
`firstline serve` (the only place that imports ``adapters``), health and the offline tools
(evaluation, router calibration)."""
