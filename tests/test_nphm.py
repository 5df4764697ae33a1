"""NPHM's published checkpoints: a fake experiment tree with the exact key layouts, loaded strictly.

The identity stack keeps the published layout (39 anchors, 16 symmetric pairs, so 24 weight slots for
40 members; a 64-d global and 32-d local codes, so 1344-d codes; five ensembled layers with the skip
into the third) with the hidden width reduced from 200 to 104; ``mlp_pos`` is 32 wide instead of
256. The expression decoder keeps ``compressor.0`` (1461 → 32), 200-d codes and seven layers with the
skip into the fourth, 256 wide instead of 512. The numpy references below are written from NPHM's
equations, not from the torch code under test.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from cliphead.cli import main
from cliphead.heads.nphm import (
    EXPRESSION_FOLDER,
    IDENTITY_FOLDER,
    NPHM_ORIGIN_IN_ICT_CM,
    NPHM_UNIT_CM,
    load_nphm,
    parse_nphm_spec,
)
from cliphead.meshes import load_mesh

GLOB, LOC, ANCHORS, PAIRS = 64, 32, 39, 16
MEMBERS, SLOTS, LATENT = ANCHORS + 1, ANCHORS + 1 - PAIRS, GLOB + (ANCHORS + 1) * LOC
ID_HIDDEN, POS_HIDDEN, ID_IN = 104, 32, 3 + GLOB + LOC
ID_SHAPES = [(ID_HIDDEN, ID_IN), (ID_HIDDEN - ID_IN, ID_HIDDEN), (ID_HIDDEN, ID_HIDDEN), (ID_HIDDEN, ID_HIDDEN)]
ID_SHAPES += [(1, ID_HIDDEN)]
COMPRESSED, EXPR, EX_HIDDEN = 32, 200, 256
EX_IN = 3 + COMPRESSED + EXPR
EX_SHAPES = [(EX_HIDDEN, EX_IN), (EX_HIDDEN, EX_HIDDEN), (EX_HIDDEN - EX_IN, EX_HIDDEN)]
EX_SHAPES += [(EX_HIDDEN, EX_HIDDEN)] * 3 + [(3, EX_HIDDEN)]
SPHERE_CENTRE = np.array([0.0, 0.1, -0.2])


def identity_state(seed: int) -> dict[str, torch.Tensor]:
    """Random weights in the published key layout of FastEnsembleDeepSDFMirrored."""
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for k, (out, inputs) in enumerate(ID_SHAPES):
        state[f"ensembled_deep_sdf.lin{k}.weight"] = torch.randn(SLOTS, out, inputs, generator=generator) / inputs**0.5
        state[f"ensembled_deep_sdf.lin{k}.bias"] = 0.1 * torch.randn(SLOTS, out, generator=generator)
    for k, (out, inputs) in zip((0, 2, 4), [(POS_HIDDEN, GLOB), (POS_HIDDEN, POS_HIDDEN), (3 * ANCHORS, POS_HIDDEN)]):
        state[f"mlp_pos.{k}.weight"] = 0.3 * torch.randn(out, inputs, generator=generator) / inputs**0.5
        state[f"mlp_pos.{k}.bias"] = 0.05 * torch.randn(out, generator=generator)
    return state


def expression_state(seed: int) -> dict[str, torch.Tensor]:
    """Random weights in the published key layout of DeformationNetwork (compress mode)."""
    generator = torch.Generator().manual_seed(seed)
    state = {
        "compressor.0.weight": torch.randn(COMPRESSED, LATENT + 3 * ANCHORS, generator=generator) / 40.0,
        "compressor.0.bias": 0.1 * torch.randn(COMPRESSED, generator=generator),
    }
    for k, (out, inputs) in enumerate(EX_SHAPES):
        state[f"defDeepSDF.lin{k}.weight"] = torch.randn(out, inputs, generator=generator) / inputs**0.5
        state[f"defDeepSDF.lin{k}.bias"] = 0.1 * torch.randn(out, generator=generator)
    return state


def sphere_states() -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Weights with a known surface: every anchor member outputs -1, the background member +1, the anchors
    sit at their mean; and an expression whose offset layer is zero."""
    identity = {key: torch.zeros_like(value) for key, value in identity_state(0).items()}
    identity["ensembled_deep_sdf.lin4.bias"][:] = -1.0
    identity["ensembled_deep_sdf.lin4.bias"][SLOTS - 1] = 1.0  # the slot of the 40th member
    expression = expression_state(1)
    expression["defDeepSDF.lin6.weight"].zero_()
    expression["defDeepSDF.lin6.bias"].zero_()
    return identity, expression


IDENTITY_CONFIG = {
    "decoder": {
        "decoder_lat_dim_glob": GLOB,
        "decoder_lat_dim_loc": LOC,
        "decoder_hidden_dim": ID_HIDDEN,
        "decoder_nlayers": 4,
        "decoder_nloc": ANCHORS,
        "decoder_nsymm_pairs": PAIRS,
        "pos_mlp_dim": POS_HIDDEN,
    },
    "training": {"batch_size": 32, "lr": 0.0005},
}
EXPRESSION_CONFIG = {  # id_decoder as in NPHM's nphm_def.yaml: hidden and pos_mlp_dim there are not the identity's
    "ex_decoder": {"decoder_hidden_dim": EX_HIDDEN, "decoder_lat_dim_expr": EXPR, "decoder_lat_dim_id": 32,
                   "decoder_nlayers": 6, "mode": "compress"},
    "id_decoder": {"decoder_hidden_dim": 200, "decoder_lat_dim_glob": GLOB, "decoder_lat_dim_loc": LOC,
                   "decoder_nlayers": 4, "decoder_nloc": ANCHORS, "decoder_nsymm_pairs": PAIRS, "pos_mlp_dim": 128},
    "has_forward": True,
}  # fmt: skip


def write_tree(
    root: Path,
    identity: dict[str, torch.Tensor],
    expression: dict[str, torch.Tensor],
    anchors: np.ndarray,
    identity_config: dict = IDENTITY_CONFIG,
    expression_config: dict | None = None,
) -> Path:
    """An NPHM experiment tree as the release lays it out, with the mean anchors in EXP_DIR/assets/."""
    parameter = torch.nn.Parameter(torch.zeros(3))
    optimizer = torch.optim.Adam([parameter])
    parameter.grad = torch.ones(3)
    optimizer.step()  # a real optimizer state (ints, floats, tensors), as the training script saves
    for folder, state, config, epoch in [
        (IDENTITY_FOLDER, identity, identity_config, 15000),
        (EXPRESSION_FOLDER, expression, expression_config or EXPRESSION_CONFIG, 2500),
    ]:
        (root / folder / "checkpoints").mkdir(parents=True, exist_ok=True)
        (root / folder / "configs.yaml").write_text(yaml.safe_dump(config))
        checkpoint = {
            "epoch": epoch,
            "decoder_state_dict": state,
            "optimizer_encoder_state_dict": optimizer.state_dict(),
            "latent_codes_state_dict": {"weight": torch.randn(3, LATENT)},
        }
        torch.save(checkpoint, root / folder / "checkpoints" / f"checkpoint_epoch_{epoch}.tar")
    (root / "assets").mkdir(exist_ok=True)
    np.save(root / "assets" / "anchors_39.npy", np.asarray(anchors, dtype=np.float32).reshape(1, ANCHORS, 3))
    return root


@pytest.fixture
def random_tree(tmp_path):
    anchors = np.random.default_rng(0).uniform(-0.3, 0.3, (ANCHORS, 3))
    return write_tree(tmp_path / "exp", identity_state(0), expression_state(1), anchors), anchors


def softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, 100.0 * x) / 100.0


def reference_identity(
    state: dict[str, torch.Tensor], mean_anchors: np.ndarray, z: np.ndarray, points: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """NPHM §3.1 from its equations, member by member, in float64."""
    w = {key: value.double().numpy() for key, value in state.items()}
    hidden = np.maximum(w["mlp_pos.0.weight"] @ z[:GLOB] + w["mlp_pos.0.bias"], 0)
    hidden = np.maximum(w["mlp_pos.2.weight"] @ hidden + w["mlp_pos.2.bias"], 0)
    anchors = (w["mlp_pos.4.weight"] @ hidden + w["mlp_pos.4.bias"]).reshape(ANCHORS, 3) + mean_anchors
    members = np.zeros((len(points), MEMBERS))
    for m in range(MEMBERS):
        slot = m // 2 if m < 2 * PAIRS else m - PAIRS  # pairs share a slot, the rest take one each
        local = points - (anchors[m] if m < ANCHORS else 0.0)
        if m < 2 * PAIRS and m % 2 == 1:
            local = local * np.array([-1.0, 1.0, 1.0])  # the mirrored member of a pair
        code = np.concatenate([z[:GLOB], z[GLOB + m * LOC : GLOB + (m + 1) * LOC]])
        inputs = np.concatenate([local, np.tile(code, (len(points), 1))], axis=1)
        h = inputs
        for k in range(len(ID_SHAPES)):
            if k == 2:
                h = np.concatenate([h, inputs], axis=1) / np.sqrt(2)
            h = h @ w[f"ensembled_deep_sdf.lin{k}.weight"][slot].T + w[f"ensembled_deep_sdf.lin{k}.bias"][slot]
            h = softplus(h) if k < len(ID_SHAPES) - 1 else h
        members[:, m] = h[:, 0]
    distance = np.linalg.norm(points[:, None] - anchors[None], axis=2)
    weights = np.exp(-((distance + 1e-5) ** 2) / 0.01)
    weights = np.concatenate([weights, np.full((len(points), 1), np.exp(-0.2 / 0.01))], axis=1)
    return (weights * members).sum(1) / (weights.sum(1) + 1e-6), anchors


def reference_offsets(
    state: dict[str, torch.Tensor], z_id: np.ndarray, anchors: np.ndarray, z_exp: np.ndarray, points: np.ndarray
) -> np.ndarray:
    """NPHM §3.2, compress mode: offsets of a DeepSDF on [x, compressor([z_id, anchors]), z_exp]."""
    w = {key: value.double().numpy() for key, value in state.items()}
    compressed = w["compressor.0.weight"] @ np.concatenate([z_id, anchors.reshape(-1)]) + w["compressor.0.bias"]
    inputs = np.concatenate([points, np.tile(np.concatenate([compressed, z_exp]), (len(points), 1))], axis=1)
    h = inputs
    for k in range(len(EX_SHAPES)):
        if k == 3:
            h = np.concatenate([h, inputs], axis=1) / np.sqrt(2)
        h = h @ w[f"defDeepSDF.lin{k}.weight"].T + w[f"defDeepSDF.lin{k}.bias"]
        h = softplus(h) if k < len(EX_SHAPES) - 1 else h
    return h[:, :3]


def test_the_published_layout_loads_strictly_and_matches_the_numpy_reference(random_tree):
    root, mean_anchors = random_tree
    model = load_nphm(f"nphm:{root}")
    assert not model.training and model.identity.config.latent_dim == LATENT
    assert model.identity.config.skip_layer == 2 and model.expression.config.skip_layer == 3
    rng = np.random.default_rng(1)
    z_id, z_exp = 0.1 * rng.standard_normal(LATENT), 0.1 * rng.standard_normal(EXPR)
    # near the anchors, where members blend, and farther out, where the background member takes over
    points = np.concatenate([mean_anchors[rng.integers(0, ANCHORS, 150)] + rng.normal(0, 0.08, (150, 3)),
                             rng.uniform(-0.6, 0.6, (50, 3))])  # fmt: skip
    expected, anchors = reference_identity(model_state(root, IDENTITY_FOLDER), mean_anchors, z_id, points)
    sdf = model.nphm_sdf(torch.from_numpy(points).float(), torch.from_numpy(z_id), chunk=64)
    np.testing.assert_allclose(sdf.numpy(), expected, atol=1e-5)
    assert np.ptp(expected) > 0.1  # the test sees a varied field, not a constant
    moved = model.nphm_deform(torch.from_numpy(points).float(), torch.from_numpy(z_id), torch.from_numpy(z_exp))
    offsets = reference_offsets(model_state(root, EXPRESSION_FOLDER), z_id, anchors, z_exp, points)
    np.testing.assert_allclose(moved.numpy() - points, offsets, atol=1e-5)
    in_cm = model.sdf_field(torch.from_numpy(z_id))(torch.from_numpy(points * NPHM_UNIT_CM + NPHM_ORIGIN_IN_ICT_CM))
    np.testing.assert_allclose(in_cm.numpy(), expected * NPHM_UNIT_CM, atol=1e-3)
    with pytest.raises(ValueError, match="no 68 Multi-PIE landmarks"):
        model.canonical_landmarks(torch.from_numpy(z_id))


def model_state(root: Path, folder: str) -> dict[str, torch.Tensor]:
    epoch = 15000 if folder == IDENTITY_FOLDER else 2500
    return torch.load(root / folder / "checkpoints" / f"checkpoint_epoch_{epoch}.tar")["decoder_state_dict"]


def test_a_pickled_module_a_missing_key_and_a_wrong_shape_are_refused(tmp_path):
    anchors = np.zeros((ANCHORS, 3))
    root = write_tree(tmp_path / "pickled", identity_state(0), expression_state(1), anchors)
    torch.save(torch.nn.Linear(3, 1), root / IDENTITY_FOLDER / "checkpoints" / "checkpoint_epoch_15000.tar")
    with pytest.raises(ValueError, match="pickled module"):
        load_nphm(f"nphm:{root}")
    partial = identity_state(0)
    del partial["ensembled_deep_sdf.lin2.bias"]
    root = write_tree(tmp_path / "partial", partial, expression_state(1), anchors)
    with pytest.raises(ValueError, match=r"missing \['ensembled_deep_sdf.lin2.bias'\]"):
        load_nphm(f"nphm:{root}")
    wrong = identity_state(0)
    wrong["ensembled_deep_sdf.lin3.weight"] = torch.zeros(SLOTS, ID_HIDDEN, 50)
    root = write_tree(tmp_path / "wrong", wrong, expression_state(1), anchors)
    with pytest.raises(ValueError, match="ensembled_deep_sdf.lin3.weight takes 50 inputs"):
        load_nphm(f"nphm:{root}")
    other_release = expression_state(1)
    other_release["compressor.0.weight"] = torch.zeros(COMPRESSED, 1400)
    root = write_tree(tmp_path / "other", identity_state(0), other_release, anchors)
    with pytest.raises(ValueError, match="compressor.0 takes 1400 inputs"):
        load_nphm(f"nphm:{root}")


def test_a_configs_yaml_that_disagrees_with_the_tensors_is_refused(tmp_path):
    anchors = np.zeros((ANCHORS, 3))
    stated = {**IDENTITY_CONFIG, "decoder": {**IDENTITY_CONFIG["decoder"], "decoder_hidden_dim": 200}}
    root = write_tree(tmp_path / "hidden", identity_state(0), expression_state(1), anchors, stated)
    with pytest.raises(ValueError, match=r"configs.yaml: decoder.decoder_hidden_dim is 200 but .* give 104"):
        load_nphm(f"nphm:{root}")
    other_mode = {**EXPRESSION_CONFIG, "ex_decoder": {**EXPRESSION_CONFIG["ex_decoder"], "mode": "glob_only"}}
    root = write_tree(tmp_path / "mode", identity_state(0), expression_state(1), anchors, expression_config=other_mode)
    with pytest.raises(ValueError, match=f"{EXPRESSION_FOLDER}/configs.yaml: ex_decoder.mode is 'glob_only'"):
        load_nphm(f"nphm:{root}")


def test_the_spec_says_what_is_wrong(random_tree, tmp_path):
    root, _ = random_tree
    spec = parse_nphm_spec(f"nphm:{root},epochs=15000:2500")
    assert spec.anchors == root / "assets" / "anchors_39.npy" and spec.epochs == (15000, 2500)
    with pytest.raises(ValueError, match="two integers"):
        parse_nphm_spec(f"nphm:{root},epochs=15000")
    with pytest.raises(ValueError, match="not anchors=PATH or epochs"):
        parse_nphm_spec(f"nphm:{root},anchor=x.npy")
    with pytest.raises(FileNotFoundError, match="anchors=PATH"):
        parse_nphm_spec(f"nphm:{root},anchors={tmp_path / 'none.npy'}")
    with pytest.raises(FileNotFoundError, match="checkpoint_epoch_100.tar"):
        load_nphm(f"nphm:{root},epochs=100:2500")
    with pytest.raises(ValueError, match="No NPHM latent statistics"):
        load_nphm(f"nphm:{root}").sample_identity_code(0)
    mean, std = np.linspace(-1, 1, LATENT), np.linspace(0.1, 0.2, LATENT)
    np.save(root / "assets" / "nphm_lat_mean.npy", mean.reshape(1, 1, -1))  # beside the anchors, as in NPHM's assets/
    np.save(root / "assets" / "nphm_lat_std.npy", std)
    drawn = load_nphm(f"nphm:{root}").sample_identity_code(3).numpy()
    noise = torch.randn(LATENT, generator=torch.Generator().manual_seed(3)).numpy()
    np.testing.assert_allclose(drawn, mean + 0.85 * std * noise, atol=1e-6)  # NPHM's sampling script: 0.85 std


def test_head_sample_writes_the_mesh_and_a_zero_expression_leaves_it_unchanged(tmp_path, capsys):
    identity, expression = sphere_states()
    root = write_tree(tmp_path / "exp", identity, expression, np.tile(SPHERE_CENTRE, (ANCHORS, 1)))
    z_id = np.random.default_rng(2).standard_normal(LATENT).astype(np.float32)
    np.savez(tmp_path / "neutral.npz", z_id=z_id)
    np.savez(tmp_path / "zero.npz", z_id=z_id, z_exp=np.zeros(EXPR, dtype=np.float32))
    command = [sys.executable, "-m", "cliphead.cli", "sample", "head", "--head-weights", f"nphm:{root}", "--res", "21"]
    neutral = subprocess.run(
        [*command, "--codes", str(tmp_path / "neutral.npz"), "--frame", "nphm", "--out", str(tmp_path / "head.obj")],
        capture_output=True,
        text=True,
    )
    assert neutral.returncode == 0, neutral.stderr
    vertices, faces = load_mesh(tmp_path / "head.obj")
    assert len(faces) > 500 and '"backend": "nphm"' in neutral.stdout.splitlines()[-1]
    # 39 members at -1 against the background's +1: the zero level set is where 39·exp(-r²/σ²) = exp(-0.2/σ²)
    # (the field is exponential in r², so linear interpolation puts vertices a little outside: a fraction of a voxel)
    radius = np.sqrt(0.01 * (20 + np.log(39))) - 1e-5
    error, voxel = np.abs(np.linalg.norm(vertices - SPHERE_CENTRE, axis=1) - radius), 1.35 / 20
    assert error.mean() < 0.25 * voxel and error.max() < 0.75 * voxel
    # the same head with a zero expression code and zero offset weights, in the project's frame
    argv = ["sample", "head", "--head-weights", f"nphm:{root}", "--res", "21", "--codes", str(tmp_path / "zero.npz")]
    assert main([*argv, "--out", str(tmp_path / "zero.obj")]) == 0
    moved, moved_faces = load_mesh(tmp_path / "zero.obj")
    np.testing.assert_array_equal(moved_faces, faces)
    np.testing.assert_allclose(moved, vertices * NPHM_UNIT_CM + NPHM_ORIGIN_IN_ICT_CM, atol=1e-4)
    assert '"expression": true' in capsys.readouterr().out.splitlines()[-1]
    np.savez(tmp_path / "short.npz", z_id=z_id[:100])
    assert main([*argv[:-1], str(tmp_path / "short.npz"), "--out", str(tmp_path / "x.obj")]) == 2
    assert "error: " in capsys.readouterr().err and not (tmp_path / "x.obj").exists()


def test_the_help_explains_the_spec(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["sample", "head", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert exit_.value.code == 0
    assert "nphm:EXP_DIR[,anchors=PATH][,epochs=ID:EX]" in text and "--codes" in text and "--frame" in text
