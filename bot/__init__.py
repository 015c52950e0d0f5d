"""firstline core: questions in, cited answers out. Never imports a chat SDK."""

__version__ = "0.1.0"
