"""Measuring the repair stage on the defect corpus (:mod:`cliphead.lab.uv.defects`; notebook 05).

Every corpus head goes through what ``cliphead align uv`` does by default — frame, repairs, landmarks
found on renders, the aligned map (:func:`cliphead.uv.incoming.align_head`) — and is scored: did it
map, its median QCE and share of flipped UV faces, how far the repairs moved the surface that was
kept (:func:`surface_moved_mm`) and how far from the input they put new surface (:func:`surface_added_mm`),
how far the found landmarks lie from the known ones, how many faces of the written meshes are zero-area or
duplicated or vertices unreferenced (:func:`unclean_elements`: none is allowed), and, when it was refused, the
error.
"""

from __future__ import annotations

import time

import igl
import numpy as np

from cliphead.lab.uv.defects import DefectCase, corpus_case, corpus_plan
from cliphead.meshes import MeshError, boundary_loops, degenerate_faces, largest_area_component
from cliphead.uv.distortion import distortion_summary
from cliphead.uv.incoming import AlignedMesh, align_head
from cliphead.uv.repair import hausdorff, split_non_manifold

#: Input vertices this far (cm) under the repaired neck count as cut away, not moved.
NECK_SLACK_CM = 0.05


def surface_moved_mm(case: DefectCase, result: AlignedMesh) -> float:
    """How far the repairs moved the input surface they kept (mm): the largest distance from an input vertex to
    the repaired surface, over the vertices of the input's largest piece once its non-manifold parts are split,
    above the repaired neck. Surface the repairs cut away (offending faces, stray pieces, a ragged neck's band)
    was removed, not moved, and does not count."""
    split = split_non_manifold(result.frame.to_ict(case.vertices), case.faces)
    kept = largest_area_component(split.vertices, split.faces).vertices
    prepared = result.prepared
    neck = boundary_loops(prepared.faces)[0]
    kept = kept[kept[:, 1] > prepared.vertices[neck, 1].max() + NECK_SLACK_CM]
    squared = igl.point_mesh_squared_distance(kept, prepared.vertices, prepared.faces)[0]
    return 10.0 * float(np.sqrt(squared.max())) if len(kept) else 0.0


def surface_added_mm(case: DefectCase, result: AlignedMesh) -> float:
    """The largest distance (mm) from the repaired surface to the input surface: how far from anything the user
    gave the repairs put surface (caps over holes, closed tunnels)."""
    prepared = result.prepared
    return 10.0 * hausdorff(prepared.vertices, prepared.faces, result.frame.to_ict(case.vertices), case.faces)


def landmark_error_mm(case: DefectCase, result: AlignedMesh) -> float:
    """Mean distance (mm) of the landmarks the map used from the known ones moved onto the repaired surface."""
    known = result.frame.to_ict(case.landmarks)
    on_surface = igl.point_mesh_squared_distance(known, result.prepared.vertices, result.prepared.faces)[2]
    return 10.0 * float(np.linalg.norm(result.landmarks - on_surface, axis=1).mean())


def unclean_elements(vertices: np.ndarray, faces: np.ndarray) -> int:
    """Zero-area and duplicated faces plus unreferenced vertices of a mesh (the clean-output rule: zero)."""
    zero_area, duplicated = degenerate_faces(vertices, faces)
    return int(zero_area.sum() + duplicated.sum()) + len(vertices) - len(np.unique(faces))


def score_case(case: DefectCase) -> tuple[dict, AlignedMesh | None]:
    """One corpus head through the default repair and map, scored (see the module's docstring); with the
    result, None when the head was refused."""
    row = {"source": case.source, "seed": case.seed, "defect": case.defect, "n_faces_in": len(case.faces)}
    start = time.perf_counter()
    try:
        result = align_head(case.vertices, case.faces)
    except MeshError as error:
        return row | {"mapped": False, "error": str(error), "seconds": time.perf_counter() - start}, None
    aligned = result.aligned
    summary = distortion_summary(aligned.vertices, aligned.faces, aligned.uv)
    return row | {
        "mapped": True,
        "error": "",
        "seconds": time.perf_counter() - start,
        "qce_median": summary["qce_median"],
        "flipped_fraction": summary["flipped_faces"] / len(aligned.faces),
        "handles_removed": result.prepared.figures.get("handles_removed", 0),
        "midline_remeshed": result.prepared.figures.get("midline_remeshed", 0),
        "surface_moved_mm": surface_moved_mm(case, result),
        "surface_added_mm": surface_added_mm(case, result),
        "landmark_error_mm": landmark_error_mm(case, result),
        "unclean_elements": unclean_elements(result.prepared.vertices, result.prepared.faces)
        + unclean_elements(aligned.vertices, aligned.faces),
        "repairs": "; ".join(result.notes),
    }, result


def run_defect_study(quick: bool = False, progress=None) -> tuple[list[dict], dict[str, tuple]]:
    """Score every head of the corpus (``progress``: an optional wrapper such as ``tqdm``). Returns the rows and,
    for the figure, each defect's first head with its result: ``{defect: (case, result or None)}``."""
    plan = corpus_plan(quick)
    rows, shown = [], {}
    for entry in progress(plan) if progress else plan:
        case = corpus_case(*entry)
        row, result = score_case(case)
        rows.append(row)
        shown.setdefault(case.defect if case.source == "ict" else case.source, (case, result))
    return rows, shown


def summarise_defect_study(rows: list[dict]) -> dict:
    """The issue's figures: share mapped, median QCE, worst flipped share, surface moved where the head was not
    re-meshed (re-meshing moves it by design: its Hausdorff distance is in the row's repairs), the most unclean
    elements in one head's written meshes."""
    mapped = [row for row in rows if row["mapped"]]
    kept_surface = [row for row in mapped if row["handles_removed"] == 0 and row["midline_remeshed"] == 0]
    return {
        "heads": len(rows),
        "mapped_fraction": len(mapped) / len(rows),
        "qce_median": float(np.median([row["qce_median"] for row in mapped])) if mapped else float("nan"),
        "flipped_fraction_max": max((row["flipped_fraction"] for row in mapped), default=float("nan")),
        "surface_moved_mm_max_not_remeshed": max((row["surface_moved_mm"] for row in kept_surface), default=0.0),
        "unclean_elements_max": max((row["unclean_elements"] for row in mapped), default=0),
        "landmark_error_mm_mean": float(np.mean([row["landmark_error_mm"] for row in mapped]))
        if mapped
        else float("nan"),
    }
