"""``cliphead bench uv``: how long the aligned UV map takes on a ~50k-vertex marching-cubes head.

Each step of ``cliphead align uv`` is timed separately (median of repeats). The baseline, measured
in the same run on the same mesh, is the textbook harmonic disk map — libigl's boundary loop mapped
to a circle and ``igl.harmonic`` — i.e. the cost of the linear solve alone; the ratio says what the
seam cut, the fixed layout and the checks add on top, and what the repair stage of meshes from elsewhere
(:func:`cliphead.uv.incoming.align_head`: frame, repairs, map) costs on a head that needs none.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

import igl

from cliphead.heads.ict import load_ict_model
from cliphead.heads.io import write_head
from cliphead.meshes import MeshError, load_mesh
from cliphead.lab.bench import BenchmarkResult, Target, Timing
from cliphead.lab.reporting import median_seconds
from cliphead.uv.aligned import aligned_uv
from cliphead.uv.bake import uv_normal_map
from cliphead.uv.checks import prepare_head_mesh
from cliphead.uv.incoming import align_head
from cliphead.lab.uv.evaluation import remeshed_head

BAR_SECONDS = 1.0
#: The repair stage's path (frame, checks and repairs, map, warp) may take this many baseline solves.
REPAIR_BAR_RATIO = 3.0
REPAIR_LABEL = "align with the repair stage (frame, repairs, map, warp; landmarks given)"
DETECTED_LABEL = "the same, landmarks found on renders"


def benchmark_uv(resolution: int = 176, repeats: int = 5, seed: int = 0) -> BenchmarkResult:
    """Step timings of the aligned map on one re-meshed head, with the same-run baseline."""
    head = remeshed_head(load_ict_model(), seed, "neutral", resolution)
    with tempfile.TemporaryDirectory() as tmp:
        path, _ = write_head(Path(tmp) / "head.obj", head)
        load_seconds = median_seconds(lambda: load_mesh(path), repeats)
        vertices, faces = load_mesh(path)
    prepared = prepare_head_mesh(vertices, faces)
    check_seconds = median_seconds(lambda: prepare_head_mesh(vertices, faces), repeats)
    steps: dict[str, list[float]] = {}
    for _ in range(repeats):
        for warp in (False, True):
            aligned = aligned_uv(prepared.vertices, prepared.faces, landmarks=head.landmarks if warp else None)
            for name, seconds in aligned.seconds.items():
                steps.setdefault(name, []).append(seconds)
    step_seconds = {name: statistics.median(values) for name, values in steps.items()}
    bake_seconds = median_seconds(lambda: uv_normal_map(aligned.vertices, aligned.faces, aligned.uv, 512), repeats)

    boundary = igl.boundary_loop(prepared.faces)
    circle = igl.map_vertices_to_circle(prepared.vertices, boundary)
    baseline = median_seconds(lambda: igl.harmonic(prepared.vertices, prepared.faces, boundary, circle, 1), repeats)

    plain = check_seconds + step_seconds["cut"] + step_seconds["boundary"] + step_seconds["harmonic"]
    warped = plain + step_seconds["landmark_warp"]
    repaired = median_seconds(lambda: align_head(vertices, faces, head.landmarks), repeats)
    try:
        detected = [Timing(DETECTED_LABEL, median_seconds(lambda: align_head(vertices, faces), max(1, repeats // 2)))]
    except MeshError:  # FaceMesh finds no face on a coarse head (--resolution 64): nothing to time
        detected = []
    steps_timed = [
        Timing("load OBJ", load_seconds),
        Timing("check", check_seconds),
        *(Timing(name, value) for name, value in step_seconds.items()),
        Timing("bake 512² normal map", bake_seconds),
        Timing("align (check, cut, boundary, harmonic)", plain),
        Timing("align with the landmark warp", warped),
        Timing(REPAIR_LABEL, repaired),
        *detected,
    ]
    return BenchmarkResult(
        f"align uv on a {len(vertices)}-vertex marching-cubes head (median of {repeats})",
        Timing("harmonic map to a circle (libigl)", baseline),
        steps_timed,
        [Target("align with the landmark warp", BAR_SECONDS), Target(REPAIR_LABEL, REPAIR_BAR_RATIO * baseline)],
        {"n_vertices": int(len(vertices)), "n_faces": int(len(faces))},
    )
