"""Baselines for CLIP-Head's comparison (§3, Table 1, Fig. 4), built here because ClipFace and HiFi-Face
cannot run without their weights and data.

- :class:`OptimisationBaseline`, in the spirit of ClipFace / Text2Mesh: the linear ICT model's
  identity and expression coefficients and a UV texture are optimised per prompt through the
  differentiable renderer against the encoder (several random views, random 2D crops), from the mean
  head and a grey texture.
- :class:`RetrievalBaseline`: no generation; the training pair whose ψ is nearest the prompt's gives
  the identity, the expression pair nearest gives the expression, and the training caption nearest
  gives its painted texture.
- :class:`RandomBaseline`: a random head of the head model and a random painted texture (the floor).

Each returns a :class:`BaselineOutput` (mesh with aligned UV and a texture) and its seconds, so the
evaluation renders and scores every method the same way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class BaselineOutput:
    """A textured head of one method for one prompt."""

    vertices: np.ndarray
    faces: np.ndarray
    uv: np.ndarray
    texture: np.ndarray  # (S, S, 3) in [0, 1], aligned layout
    seconds: float


@dataclass(frozen=True)
class OptimisationConfig:
    """Steps, views per step, render and texture sizes, learning rates and the coefficients' prior weight."""

    steps: int = 60
    views: int = 3
    render_size: int = 96
    texture_size: int = 128
    identity_modes: int = 30
    lr: float = 0.05
    prior_weight: float = 0.02
    seed: int = 0


@dataclass(frozen=True)
class _ICTHead:
    """The ICT neutral head re-meshed and aligned, with its vertices as a linear function of the coefficients."""

    base: torch.Tensor  # (N, 3) the re-meshed neutral
    identity: torch.Tensor  # (K, N, 3) identity modes carried to the re-meshed vertices
    expression: torch.Tensor  # (53, N, 3)
    faces: np.ndarray
    uv: np.ndarray

    def posed(self, identity: torch.Tensor, expression: torch.Tensor) -> torch.Tensor:
        """(N, 3) vertices for identity coefficients (K,) and expression weights (53,)."""
        return (
            self.base
            + torch.einsum("k,knc->nc", identity, self.identity)
            + torch.einsum("k,knc->nc", expression, self.expression)
        )


@lru_cache(maxsize=1)
def _ict_head(identity_modes: int, resolution: int = 96) -> _ICTHead:
    """Each re-meshed vertex follows the barycentric point of the ICT skin nearest it (a fixed linear map)."""
    import igl

    from cliphead.heads.ict import load_ict_model
    from cliphead.uv.aligned import aligned_uv
    from cliphead.uv.checks import prepare_head_mesh
    from cliphead.lab.uv.layout_build import template_head

    model = load_ict_model()
    head = template_head(resolution)
    prepared = prepare_head_mesh(head.vertices, head.faces)
    aligned = aligned_uv(prepared.vertices, prepared.faces, landmarks=head.landmarks)
    skin = model.skin_triangles
    neutral = model.neutral.astype(np.float64)
    _, face_index, closest = igl.point_mesh_squared_distance(aligned.vertices, neutral, skin)
    corners = skin[face_index]
    p = neutral[corners]
    weights = igl.barycentric_coordinates(closest, p[:, 0].copy(), p[:, 1].copy(), p[:, 2].copy())

    def carried(modes: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.einsum("nk,mnkc->mnc", weights, modes[:, corners]).astype(np.float32))

    return _ICTHead(
        torch.from_numpy(aligned.vertices.astype(np.float32)),
        carried(model.identity_modes[:identity_modes]),
        carried(model.expression_modes),
        aligned.faces,
        aligned.uv,
    )


def _render(
    vertices: torch.Tensor,
    faces: np.ndarray,
    uv: torch.Tensor,
    texture: torch.Tensor,
    yaw: float,
    pitch: float,
    size: int,
) -> torch.Tensor:
    """A differentiable textured, Lambert-shaded render (3, size, size) on white, as the CLIP score's renders."""
    from cliphead.render.cameras import head_cameras, orbit_camera
    from cliphead.render.rasterize import interpolate, rasterize
    from cliphead.render.views import vertex_normals_torch

    points = vertices.detach().double().numpy()
    framing = head_cameras(points, views=(0.0,), size=size, fill=0.9)["0.0"]
    target = 0.5 * (points.min(axis=0) + points.max(axis=0))
    camera = orbit_camera(yaw, pitch, float(np.linalg.norm(framing.position - target)), target, 30.0, size)
    screen = camera.project(vertices.double())
    fragments = rasterize(
        screen.detach().numpy(), faces, size, size, perspective=True, near=camera.near, far=camera.far
    )
    pixel_uv, mask = interpolate(uv.double(), faces, fragments, screen=screen)
    grid = torch.stack([pixel_uv[..., 0] * 2 - 1, 1 - pixel_uv[..., 1] * 2], dim=-1)[None].float()
    colour = F.grid_sample(texture, grid, mode="bilinear", padding_mode="border", align_corners=False)[0]
    rotation = torch.as_tensor(camera.rotation, dtype=torch.float64)
    normals = vertex_normals_torch(vertices.double(), faces) @ rotation.T
    pixel_normals, _ = interpolate(normals, faces, fragments, screen=screen)
    light = torch.tensor([0.3, 0.4, 0.87], dtype=torch.float64)
    shade = 0.35 + 0.65 * (F.normalize(pixel_normals, dim=-1) @ (light / light.norm())).clamp(min=0)
    covered = mask.float()
    return (colour * shade.float()[None] * covered + (1 - covered)).clamp(0, 1)


class OptimisationBaseline:
    """ClipFace-style per-prompt optimisation of ICT coefficients and a UV texture (module doc)."""

    def __init__(self, encoder, config: OptimisationConfig | None = None) -> None:
        self.encoder = encoder
        self.config = config or OptimisationConfig()

    def __call__(self, prompt: str) -> BaselineOutput:
        config = self.config
        start = time.perf_counter()
        head = _ict_head(config.identity_modes)
        generator = torch.Generator().manual_seed(config.seed)
        text = self.encoder.encode_text([prompt])
        identity = torch.zeros(config.identity_modes, requires_grad=True)
        expression = torch.full((head.expression.shape[0],), -4.0, requires_grad=True)  # sigmoid: weights near 0
        texture = torch.full((1, 3, config.texture_size, config.texture_size), 0.3, requires_grad=True)
        optimiser = torch.optim.Adam([identity, expression, texture], lr=config.lr)
        uv = torch.from_numpy(head.uv)
        for _ in range(config.steps):
            vertices = head.posed(identity, torch.sigmoid(expression))
            yaws = (torch.rand(config.views, generator=generator) * 90 - 45).tolist()
            pitches = (torch.rand(config.views, generator=generator) * 20 - 10).tolist()
            colour = torch.sigmoid(texture * 4)
            views = torch.stack(
                [_render(vertices, head.faces, uv, colour, y, p, config.render_size) for y, p in zip(yaws, pitches)]
            )
            crops = _random_crops(views, generator)
            images = self.encoder.encode_image(crops, differentiable=True)
            prior = identity.pow(2).mean() + torch.sigmoid(expression).pow(2).mean()
            loss = -(images @ text.T).mean() + config.prior_weight * prior
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        with torch.no_grad():
            vertices = head.posed(identity, torch.sigmoid(expression))
            final = torch.sigmoid(texture * 4)[0].permute(1, 2, 0).numpy()
        return BaselineOutput(vertices.double().numpy(), head.faces, head.uv, final, time.perf_counter() - start)


def _random_crops(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random scale (0.8–1) and shift crops of (n, 3, S, S) images, resampled to S (the 2D augmentations)."""
    n = len(images)
    scale = 0.8 + 0.2 * torch.rand(n, generator=generator)
    shift = (torch.rand(n, 2, generator=generator) * 2 - 1) * (1 - scale)[:, None]
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 1, 1], theta[:, :, 2] = scale, scale, shift
    grid = F.affine_grid(theta, images.shape, align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)


def _model_head(z_id: torch.Tensor, z_exp: torch.Tensor, resolution: int) -> tuple[np.ndarray, ...]:
    from cliphead.heads.checkpoints import cached_head_model
    from cliphead.uv.aligned import aligned_model_head

    head = aligned_model_head(cached_head_model(None), z_id, z_exp, resolution)
    return head.vertices, head.faces, head.uv


class RetrievalBaseline:
    """Nearest training pairs and caption (module doc); ψ is compared by cosine similarity."""

    def __init__(self, encoder, identity_pairs, expression_pairs, triples, resolution: int = 128) -> None:
        self.encoder = encoder
        self.identity_psi = np.concatenate([identity_pairs.image_psi, identity_pairs.caption_psi])
        self.identity_codes = np.concatenate([identity_pairs.z_id, identity_pairs.z_id])
        self.expressions = expression_pairs
        self.triples = triples
        captions = triples.captions.reshape(-1)
        self.caption_psi = encoder.encode_text(list(captions)).numpy()
        self.caption_texture = np.repeat(np.arange(len(triples.captions)), triples.captions.shape[1])
        self.resolution = resolution

    def __call__(self, prompt: str) -> BaselineOutput:
        start = time.perf_counter()
        psi = self.encoder.encode_text([prompt]).numpy()[0]
        z_id = torch.from_numpy(self.identity_codes[int(np.argmax(self.identity_psi @ psi))])
        z_exp = torch.from_numpy(self.expressions.z_exp[int(np.argmax(self.expressions.psi @ psi))])
        texture = self.triples.textures_whole[self.caption_texture[int(np.argmax(self.caption_psi @ psi))]]
        vertices, faces, uv = _model_head(z_id, z_exp, self.resolution)
        return BaselineOutput(vertices, faces, uv, texture.astype(np.float32) / 255, time.perf_counter() - start)


class RandomBaseline:
    """A random identity of the head model with a random labelled expression and a random painted texture."""

    def __init__(self, seed: int = 0, resolution: int = 128, texture_size: int = 128) -> None:
        self.rng = np.random.default_rng(seed)
        self.resolution = resolution
        self.texture_size = texture_size

    def __call__(self, prompt: str) -> BaselineOutput:
        from cliphead.lab.world.attributes import sample_attributes
        from cliphead.lab.world.painter import paint_texture
        from cliphead.heads.checkpoints import cached_head_model
        from cliphead.heads.expressions import EXPRESSION_LABELS
        from cliphead.meshes import MeshError
        from cliphead.texture.landmarks import resize_image

        start = time.perf_counter()
        model = cached_head_model(None)
        expression = model.expression_code(EXPRESSION_LABELS[int(self.rng.integers(len(EXPRESSION_LABELS)))])
        while True:  # a code whose mesh is not a disk (about 1 in 20) is redrawn
            try:
                head = _model_head(
                    model.sample_identity_code(int(self.rng.integers(2**31))), expression, self.resolution
                )
                break
            except MeshError:
                continue
        painted = paint_texture(sample_attributes(self.rng), 512, seed=int(self.rng.integers(2**31)))
        return BaselineOutput(*head, resize_image(painted, self.texture_size), time.perf_counter() - start)
