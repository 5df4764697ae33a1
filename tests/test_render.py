"""Tests of cliphead.render: cameras, rasterizer, differentiable interpolation, baking, views."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import trimesh
from PIL import Image

from cliphead.render import (
    NAMED_VIEWS,
    Camera,
    bake,
    head_cameras,
    image_grid,
    interpolate,
    look_at,
    named_camera,
    normal_map,
    orbit_camera,
    rasterize,
    rasterize_uv,
    render,
    save_image,
    shaded,
    textured,
    vertex_normals,
    vertex_normals_torch,
)

# A 2 x 2 quad in the z = 0 plane, counter-clockwise seen from +z, uv (0, 0) at its bottom-left.
QUAD_VERTICES = np.array([[-1.0, -1.0, 0.0], [1.0, -1.0, 0.0], [1.0, 1.0, 0.0], [-1.0, 1.0, 0.0]])
QUAD_FACES = np.array([[0, 1, 2], [0, 2, 3]])
QUAD_UV = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])


def ortho_front_camera(size: int = 8, ortho_height: float = 4.0) -> Camera:
    """Orthographic camera on +z: world (x, y) → pixel (size/2 + x s, size/2 - y s), s = size / ortho_height."""
    return Camera(look_at((0, 0, 10), (0, 0, 0)), None, size, size, ortho_height=ortho_height)


@pytest.fixture(scope="module")
def sphere():
    mesh = trimesh.creation.icosphere(subdivisions=4)
    return np.asarray(mesh.vertices), np.asarray(mesh.faces)


# --- cameras ---------------------------------------------------------------------------------


def test_perspective_projection_matches_pinhole_formula():
    camera = orbit_camera(0.0, distance=10.0, fov_y_degrees=60.0, size=100)
    focal = 50.0 / np.tan(np.radians(30.0))
    screen = camera.project(np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 0.0], [0.0, 0.0, 5.0]]))
    np.testing.assert_allclose(screen[0], [50.0, 50.0, 10.0], atol=1e-9)
    np.testing.assert_allclose(screen[1], [50.0 + focal * 0.1, 50.0 - focal * 0.2, 10.0], atol=1e-9)
    assert screen[2, 2] == pytest.approx(5.0)
    np.testing.assert_allclose(camera.position, [0.0, 0.0, 10.0], atol=1e-12)


def test_orbit_yaw_moves_camera_towards_plus_x_and_profile_sees_the_left_side():
    assert NAMED_VIEWS == {"front": 0.0, "three_quarter": 45.0, "profile": 90.0}
    profile = named_camera("profile", distance=20.0, size=64)
    np.testing.assert_allclose(profile.position, [20.0, 0.0, 0.0], atol=1e-9)
    three_quarter = named_camera("three_quarter", distance=20.0, size=64)
    np.testing.assert_allclose(three_quarter.position, [20 / np.sqrt(2), 0.0, 20 / np.sqrt(2)], atol=1e-9)
    # The profile camera sits on +x looking at -x, so the face (+z) is on the image's left.
    nose, back = profile.project(np.array([[0.0, 0.0, 5.0], [0.0, 0.0, -5.0]]))
    assert nose[0] < 32 < back[0]
    with pytest.raises(ValueError, match="three_quarter"):
        named_camera("side")


def test_project_is_differentiable_and_matches_numpy():
    camera = orbit_camera(30.0, 10.0, distance=12.0, size=32)
    points = np.random.default_rng(0).normal(size=(5, 3))
    tensor = torch.tensor(points, requires_grad=True)
    projected = camera.project(tensor)
    np.testing.assert_allclose(projected.detach().numpy(), camera.project(points), atol=1e-9)
    projected.sum().backward()
    assert tensor.grad is not None and torch.all(torch.isfinite(tensor.grad))


def test_head_cameras_frame_the_mesh_at_85_percent():
    vertices = np.asarray(trimesh.creation.box(extents=(16.0, 24.0, 20.0)).vertices) + [1.0, 2.0, 3.0]
    cameras = head_cameras(vertices, size=200)
    assert set(cameras) == set(NAMED_VIEWS)
    for camera in cameras.values():
        screen = camera.project(vertices)
        extent = np.max(np.abs(screen[:, :2] - 100.0)) / 100.0
        assert extent == pytest.approx(0.85, abs=1e-6)
        assert np.all(screen[:, 2] > camera.near)


# --- rasterizer ------------------------------------------------------------------------------


def test_quad_triangle_ids_and_barycentrics_by_hand():
    camera = ortho_front_camera()  # vertices land on pixels (2, 6), (6, 6), (6, 2), (2, 2)
    screen = camera.project(QUAD_VERTICES)
    np.testing.assert_allclose(screen[:, :2], [[2, 6], [6, 6], [6, 2], [2, 2]], atol=1e-12)
    fragments = rasterize(screen, QUAD_FACES, 8, 8, perspective=False)
    assert fragments.triangle_id[5, 4] == 0  # centre (4.5, 5.5): below the diagonal x + y = 8
    np.testing.assert_allclose(fragments.barycentrics[5, 4], [0.375, 0.5, 0.125], atol=1e-4)
    assert fragments.triangle_id[2, 2] == 1  # centre (2.5, 2.5)
    np.testing.assert_allclose(fragments.barycentrics[2, 2], [0.125, 0.125, 0.75], atol=1e-4)
    assert fragments.triangle_id[0, 0] == -1 and fragments.depth[0, 0] == np.inf
    assert fragments.mask.sum() == 16 and fragments.mask[2:6, 2:6].all()
    np.testing.assert_allclose(fragments.depth[fragments.mask], 10.0)

    rows, cols = np.nonzero(fragments.mask)
    corners = screen[QUAD_FACES[fragments.triangle_id[rows, cols]], :2]
    reproduced = np.einsum("mk,mkd->md", fragments.barycentrics[rows, cols], corners)
    np.testing.assert_allclose(reproduced, np.stack([cols + 0.5, rows + 0.5], axis=1), atol=1e-9)


def test_backface_culling_keeps_counter_clockwise_triangles():
    camera = ortho_front_camera()
    screen = camera.project(QUAD_VERTICES)
    assert rasterize(screen, QUAD_FACES, 8, 8, cull_backfaces=True).mask.sum() == 16
    assert rasterize(screen, QUAD_FACES[:, ::-1], 8, 8, cull_backfaces=True).mask.sum() == 0


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_z_buffer_nearest_triangle_wins_in_any_order(order):
    near = np.array([[0.0, 0.0, 2.0], [10.0, 0.0, 2.0], [0.0, 10.0, 2.0]])
    far = np.array([[1.0, 1.0, 5.0], [10.0, 10.0, 5.0], [1.0, 10.0, 5.0]])
    screen = np.concatenate([near, far])
    triangles = np.array([[0, 1, 2], [3, 4, 5]])[list(order)]
    fragments = rasterize(screen, triangles, 10, 10)
    near_id = order.index(0)
    assert fragments.triangle_id[3, 2] == near_id  # (2.5, 3.5): inside both
    assert fragments.depth[3, 2] == pytest.approx(2.0)
    assert fragments.triangle_id[8, 6] == 1 - near_id  # (6.5, 8.5): only the far one
    assert fragments.depth[8, 6] == pytest.approx(5.0)


def test_degenerate_and_behind_camera_triangles_are_skipped():
    screen = np.array([[0, 0, 1], [4, 4, 1], [8, 8, 1], [0, 0, -1], [8, 0, 1], [0, 8, 1]], dtype=float)
    fragments = rasterize(screen, [[0, 1, 2], [3, 4, 5]], 8, 8)
    assert not fragments.mask.any()
    with pytest.raises(ValueError, match="faces index"):
        rasterize(screen, [[0, 1, 6]], 8, 8)


def test_perspective_correct_interpolation_of_depth_along_a_tilted_plane():
    # A plane tilted away from the camera: interpolating camera depth as an attribute must give
    # the rasterizer's (exact) per-pixel depth only with perspective correction.
    vertices = np.array([[-1.0, -1.0, 2.0], [1.0, -1.0, 2.0], [1.0, 1.0, -6.0], [-1.0, 1.0, -6.0]])
    camera = orbit_camera(0.0, distance=10.0, fov_y_degrees=40.0, size=64)
    screen = camera.project(vertices)
    fragments = rasterize(screen, QUAD_FACES, 64, 64)
    depth = torch.as_tensor(screen[:, 2:])
    correct, mask = interpolate(depth, QUAD_FACES, fragments)
    linear, _ = interpolate(depth, QUAD_FACES, fragments, perspective_correct=False)
    mask = mask.numpy()
    np.testing.assert_allclose(correct[..., 0].numpy()[mask], fragments.depth[mask], rtol=1e-9)
    assert np.max(np.abs(linear[..., 0].numpy()[mask] - fragments.depth[mask])) > 0.3


def test_interpolate_gradcheck_attributes_screen_and_world_positions():
    corners = [[-1.0, -1.0, 0.5], [1.2, -0.8, 0.0], [0.9, 1.1, -0.5], [-1.1, 0.9, 0.2]]
    vertices = torch.tensor(corners, dtype=torch.float64)
    camera = orbit_camera(0.0, distance=6.0, fov_y_degrees=40.0, size=6)
    screen = camera.project(vertices)
    fragments = rasterize(screen.detach(), QUAD_FACES, 6, 6)
    assert fragments.mask.sum() >= 4
    attributes = torch.randn(4, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))

    def from_screen(attributes, screen):
        return interpolate(attributes, QUAD_FACES, fragments, screen)[0]

    def from_world(vertices):
        return interpolate(attributes, QUAD_FACES, fragments, camera.project(vertices))[0]

    inputs = (attributes.clone().requires_grad_(), screen.detach().clone().requires_grad_())
    assert torch.autograd.gradcheck(from_screen, inputs)
    assert torch.autograd.gradcheck(from_world, (vertices.clone().requires_grad_(),))
    # Without screen positions the result equals the differentiable path's value.
    np.testing.assert_allclose(
        interpolate(attributes, QUAD_FACES, fragments)[0].numpy(), from_screen(*inputs).detach().numpy(), atol=1e-10
    )


# --- UV rasterization and baking -------------------------------------------------------------


def test_baking_uv_returns_each_texels_own_uv_and_dilates():
    uv = np.array([[0.1, 0.2], [0.9, 0.1], [0.8, 0.9], [0.2, 0.7]])
    size = 32
    fragments = rasterize_uv(uv, QUAD_FACES, size)
    baked = bake(uv, QUAD_FACES, uv, size, fill_background=-1.0, dilate=2)
    rows, cols = np.nonzero(fragments.mask)
    texel_uv = np.stack([(cols + 0.5) / size, 1.0 - (rows + 0.5) / size], axis=1)
    assert len(rows) > 0.4 * size**2
    assert np.max(np.abs(baked[rows, cols] - texel_uv)) < 0.5 / size
    # Dilation: texels one step outside the layout are filled, far corners keep the background.
    outside = ~fragments.mask
    ring = outside & (np.abs(np.diff(np.pad(fragments.mask, 1).astype(int), axis=0)[1:, 1:-1]) > 0)
    assert ring.any() and np.all(baked[ring] >= 0.0)
    np.testing.assert_array_equal(baked[0, 0], [-1.0, -1.0])


def test_rasterize_uv_pixel_convention():
    # A tiny triangle around uv (0.1, 0.9) covers the top-left texel of a 5-texel image.
    uv = np.array([[0.05, 0.85], [0.16, 0.85], [0.05, 0.96]])
    fragments = rasterize_uv(uv, [[0, 1, 2]], 5)
    assert fragments.mask.sum() == 1 and fragments.mask[0, 0]


# --- views -----------------------------------------------------------------------------------


def analytic_sphere_normals(camera: Camera) -> tuple[np.ndarray, np.ndarray]:
    """Camera-space unit normals of the unit sphere at the origin, by ray casting each pixel centre."""
    size = camera.width
    cols, rows = np.meshgrid(np.arange(size) + 0.5, np.arange(size) + 0.5)
    focal = camera.focal_pixels
    directions = np.stack([(cols - size / 2) / focal, -(rows - size / 2) / focal, -np.ones_like(cols)], axis=-1)
    directions /= np.linalg.norm(directions, axis=-1, keepdims=True)
    centre = camera.to_camera(np.zeros((1, 3)))[0]  # the sphere centre in camera space
    along = directions @ centre
    discriminant = along**2 - (centre @ centre - 1.0)
    hit = discriminant > 0
    t = along - np.sqrt(np.where(hit, discriminant, 0.0))
    normals = t[..., None] * directions - centre
    return normals / np.linalg.norm(normals, axis=-1, keepdims=True), hit


def test_sphere_normal_map_matches_analytic_normals(sphere):
    vertices, faces = sphere
    camera = orbit_camera(0.0, distance=4.0, fov_y_degrees=40.0, size=128)
    image = normal_map(vertices, faces, camera)
    assert image.dtype == np.float32 and image.shape == (128, 128, 3)
    np.testing.assert_allclose(image[64, 64], [0.5, 0.5, 1.0], atol=0.02)
    assert image[64, 90, 0] > 0.6 and image[40, 64, 1] > 0.6  # right → R up, top → G up

    expected, disk = analytic_sphere_normals(camera)
    covered = np.any(image != 0, axis=-1)
    iou = (covered & disk).sum() / (covered | disk).sum()
    assert iou > 0.97
    both = covered & disk
    normals = image[both] * 2.0 - 1.0
    cosine = np.sum(normals * expected[both], axis=-1) / np.linalg.norm(normals, axis=-1)
    assert np.degrees(np.arccos(np.clip(cosine, -1, 1))).mean() < 3.0


def test_shaded_sphere_follows_lambert_law(sphere):
    vertices, faces = sphere
    camera = orbit_camera(0.0, distance=4.0, fov_y_degrees=40.0, size=64)
    image = shaded(vertices, faces, camera, light_direction=(1.0, 0.0, 0.0), albedo=(1.0, 0.5, 1.0), ambient=0.2)
    np.testing.assert_allclose(image[0, 0], [1.0, 1.0, 1.0])  # background
    normals, disk = analytic_sphere_normals(camera)
    inside = disk & np.any(image != 1.0, axis=-1)
    expected = 0.2 + 0.8 * np.clip(normals[..., 0], 0.0, None)
    assert np.mean(np.abs(image[inside, 0] - expected[inside])) < 0.01
    np.testing.assert_allclose(image[inside, 1], 0.5 * image[inside, 0], atol=1e-6)
    assert image[32, 14, 0] == pytest.approx(0.2, abs=1e-6)  # the unlit side gets the ambient term


def test_vertex_normals_numpy_and_torch_agree(sphere):
    vertices, faces = sphere
    normals = vertex_normals(vertices, faces)
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-9)
    assert np.mean(np.sum(normals * vertices, axis=1)) > 0.999  # outward on the unit sphere
    torch_normals = vertex_normals_torch(torch.as_tensor(vertices), faces)
    np.testing.assert_allclose(torch_normals.numpy(), normals, atol=1e-9)


def test_textured_quad_lands_checkerboard_colours():
    red, green, blue, white = np.eye(3)[0], np.eye(3)[1], np.eye(3)[2], np.ones(3)
    texture = np.zeros((8, 8, 3))
    texture[:4, :4], texture[:4, 4:], texture[4:, :4], texture[4:, 4:] = red, green, blue, white
    camera = ortho_front_camera(size=16, ortho_height=2.0)  # the quad fills the image
    image = textured(QUAD_VERTICES, QUAD_FACES, camera, QUAD_UV, (texture * 255).astype(np.uint8), shade=False)
    np.testing.assert_allclose(image[3, 3], red, atol=1e-6)  # texture's top-left: v up → image top-left
    np.testing.assert_allclose(image[3, 12], green, atol=1e-6)
    np.testing.assert_allclose(image[12, 3], blue, atol=1e-6)
    np.testing.assert_allclose(image[12, 12], white, atol=1e-6)
    assert render("textured", QUAD_VERTICES, QUAD_FACES, camera, QUAD_UV, texture)[3, 3, 0] < 1.0  # shaded


def test_render_dispatch_and_errors(sphere):
    vertices, faces = sphere
    camera = orbit_camera(0.0, distance=4.0, size=32)
    np.testing.assert_array_equal(render("normal", vertices, faces, camera), normal_map(vertices, faces, camera))
    with pytest.raises(ValueError, match="Unknown render kind"):
        render("depth", vertices, faces, camera)
    with pytest.raises(ValueError, match="needs both uv"):
        render("textured", vertices, faces, camera)
    with pytest.raises(ValueError, match="NaN"):
        render("shaded", np.full_like(vertices, np.nan), faces, camera)


def test_save_image_and_grid(tmp_path):
    a, b = np.zeros((10, 6, 3), np.float32), np.ones((8, 4, 3), np.float32)
    grid = image_grid([a, b], labels=["a", "b"])
    assert grid.shape == (26, 10, 3) and grid.dtype == np.float32
    path = save_image(tmp_path / "sub" / "grid.png", grid)
    loaded = np.asarray(Image.open(path))
    assert loaded.shape == (26, 10, 3) and loaded[20, 2].tolist() == [0, 0, 0] and loaded[20, 8].tolist() == [255] * 3
    assert sorted(p.name for p in path.parent.iterdir()) == ["grid.png"]
