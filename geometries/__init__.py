"""Parametric geometry builders (gmsh) and reference designs."""
