"""The aligned UV parametrisation of CLIP-Head §2.2, its distortion measures (supplementary §4), and the repair
stage that prepares head meshes from elsewhere for it (:func:`align_head`)."""

from cliphead.uv.aligned import AlignedUV, aligned_uv, uv_at_points
from cliphead.uv.bake import uv_normal_map
from cliphead.uv.checks import prepare_head_mesh
from cliphead.uv.distortion import area_scale_error, distortion_summary, quasi_conformal_error
from cliphead.uv.incoming import AlignedMesh, align_head

__all__ = [
    "AlignedMesh",
    "AlignedUV",
    "align_head",
    "aligned_uv",
    "area_scale_error",
    "distortion_summary",
    "prepare_head_mesh",
    "quasi_conformal_error",
    "uv_at_points",
    "uv_normal_map",
]
