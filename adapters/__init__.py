"""Chat platform adapters. Each sub-package turns platform messages into core Questions."""
