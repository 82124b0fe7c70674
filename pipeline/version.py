"""The package version, in a module of its own so that any layer can record it without
importing the package's public API (:mod:`pipeline.api`)."""

__version__ = "0.2.0"
