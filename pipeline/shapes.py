"""Plane-geometry helpers shared by the design checks and the gmsh builders.

Pure functions on point arrays [m]; no gmsh here, so designs can be validated (and
analytic areas computed) before any meshing starts.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "rotate",
    "polygon_area",
    "clip_polygon_halfplane",
    "point_segment_distance",
    "polygons_overlap",
    "annulus_area",
    "annular_sector_area",
    "circular_segment_area",
]


def rotate(points: np.ndarray, angle: float) -> np.ndarray:
    """Rotate (n, 2) points counter-clockwise by ``angle`` [rad] about the origin."""
    c, s = math.cos(angle), math.sin(angle)
    pts = np.asarray(points, dtype=float)
    return pts @ np.array([[c, s], [-s, c]])


def polygon_area(points: np.ndarray) -> float:
    """Signed area [m^2] of a simple polygon (shoelace; positive counter-clockwise)."""
    p = np.asarray(points, dtype=float)
    x, y = p[:, 0], p[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def clip_polygon_halfplane(points: np.ndarray, normal, offset: float) -> np.ndarray:
    """Keep the part of a convex polygon where ``normal . x <= offset`` (Sutherland-Hodgman)."""
    p = np.asarray(points, dtype=float)
    n = np.asarray(normal, dtype=float)
    out = []
    for i in range(len(p)):
        a, b = p[i], p[(i + 1) % len(p)]
        da, db = n @ a - offset, n @ b - offset
        if da <= 0:
            out.append(a)
        if da * db < 0:
            t = da / (da - db)
            out.append(a + t * (b - a))
    return np.array(out)


def point_segment_distance(point, a, b) -> float:
    """Distance [m] from ``point`` to the segment ``a``-``b``."""
    p, a, b = (np.asarray(v, dtype=float) for v in (point, a, b))
    ab = b - a
    t = np.clip(np.dot(p - a, ab) / np.dot(ab, ab), 0.0, 1.0)
    return float(np.linalg.norm(p - (a + t * ab)))


def _separated(p: np.ndarray, q: np.ndarray) -> bool:
    for poly in (p, q):
        for i in range(len(poly)):
            edge = poly[(i + 1) % len(poly)] - poly[i]
            axis = np.array([-edge[1], edge[0]])
            pp, qq = p @ axis, q @ axis
            if pp.max() <= qq.min() or qq.max() <= pp.min():
                return True
    return False


def polygons_overlap(p: np.ndarray, q: np.ndarray) -> bool:
    """True if two convex polygons overlap with positive area (separating-axis test)."""
    return not _separated(np.asarray(p, float), np.asarray(q, float))


def annulus_area(r_inner: float, r_outer: float) -> float:
    """Area [m^2] of the annulus r_inner < r < r_outer."""
    return math.pi * (r_outer**2 - r_inner**2)


def annular_sector_area(r_inner: float, r_outer: float, angle: float) -> float:
    """Area [m^2] of an annular sector spanning ``angle`` [rad]."""
    return 0.5 * angle * (r_outer**2 - r_inner**2)


def circular_segment_area(radius: float, half_angle: float) -> float:
    """Area [m^2] between a chord and its arc: R^2 (2a - sin 2a) / 2 for half angle a."""
    return 0.5 * radius**2 * (2 * half_angle - math.sin(2 * half_angle))
