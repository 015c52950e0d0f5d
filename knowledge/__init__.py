"""Knowledge base: loaders, chunking, embeddings, Chroma store and hybrid retrieval.

A library: it imports nothing from ``bot`` or ``adapters`` (an import-linter contract checks it).
"""

from pathlib import Path

#: The bundled sample knowledge base of a fictional company (indexed when nothing else is set).
SAMPLES = Path(__file__).resolve().parent / "samples"
