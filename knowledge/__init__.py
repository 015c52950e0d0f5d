"""Knowledge base: loaders, chunking, embeddings, Chroma store and hybrid retrieval."""
