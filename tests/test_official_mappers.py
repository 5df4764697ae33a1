"""The official CLIP-Head mappers: state dicts of the published layout, made here with random weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cliphead.mapping.official import (
    OFFICIAL_FILES,
    load_official_mapper,
    load_official_mappers,
    official_mapper_paths,
)

#: (out, in) of pts_linears.0..7 in the published files: 1024 -> 512 -> 256, the input joining before layer 5.
LAYER_SHAPES = [(512, 1024), (256, 512), (256, 256), (256, 256), (256, 256), (256, 1280), (256, 256), (256, 256)]


def official_state(output_dim: int, seed: int) -> dict[str, torch.Tensor]:
    """A state dict with the published keys and shapes (random weights)."""
    generator = torch.Generator().manual_seed(seed)
    shapes = {f"pts_linears.{k}": shape for k, shape in enumerate(LAYER_SHAPES)} | {"output_linear": (output_dim, 256)}
    state = {}
    for name, (out, inputs) in shapes.items():
        state[f"{name}.weight"] = torch.randn(out, inputs, generator=generator) / np.sqrt(inputs)
        state[f"{name}.bias"] = 0.1 * torch.randn(out, generator=generator)
    return state


def reference_forward(state: dict[str, torch.Tensor], psi: np.ndarray) -> np.ndarray:
    """The published forward pass in numpy: ReLU after each hidden layer, [input, hidden] after the 5th."""
    hidden = psi
    for k in range(len(LAYER_SHAPES)):
        weight, bias = (
            state[f"pts_linears.{k}.weight"].double().numpy(),
            state[f"pts_linears.{k}.bias"].double().numpy(),
        )
        hidden = np.maximum(hidden @ weight.T + bias, 0.0)
        if k == 4:
            hidden = np.concatenate([psi, hidden], axis=1)
    return hidden @ state["output_linear.weight"].double().numpy().T + state["output_linear.bias"].double().numpy()


@pytest.fixture
def release(tmp_path):
    """A folder holding the two files under their published names."""
    for (role, name), output_dim in zip(OFFICIAL_FILES.items(), (1344, 200)):
        torch.save(official_state(output_dim, seed=len(role)), tmp_path / name)
    return tmp_path


def test_the_published_layout_loads_strictly_and_maps_like_the_reference(release):
    psi = torch.nn.functional.normalize(torch.randn(3, 1024, generator=torch.Generator().manual_seed(0)), dim=1)
    id_mapper, exp_mapper = load_official_mappers(f"official:{release}")
    assert id_mapper.config.skip_into == 5 and id_mapper.config.widths == tuple(out for out, _ in LAYER_SHAPES)
    with torch.no_grad():
        z_id, z_exp = id_mapper(psi), exp_mapper(psi)
    assert z_id.shape == (3, 1344) and z_exp.shape == (3, 200)
    expected = reference_forward(torch.load(release / OFFICIAL_FILES["id"]), psi.double().numpy())
    np.testing.assert_allclose(z_id.numpy(), expected, atol=1e-4)
    explicit = official_mapper_paths(f"official:{release / OFFICIAL_FILES['id']},{release / OFFICIAL_FILES['exp']}")
    assert explicit == official_mapper_paths(f"official:{release}")


def test_a_pickled_module_is_refused(tmp_path):
    torch.save(torch.nn.Linear(1024, 1344), tmp_path / "module.pth")
    with pytest.raises(ValueError, match="pickled module"):
        load_official_mapper(tmp_path / "module.pth")


def test_a_shape_mismatch_is_refused(tmp_path):
    state = official_state(1344, seed=0)
    state["pts_linears.3.weight"] = torch.zeros(256, 300)
    torch.save(state, tmp_path / "broken.pth")
    with pytest.raises(ValueError, match="do not chain"):
        load_official_mapper(tmp_path / "broken.pth")
    del state["output_linear.bias"]
    torch.save(state, tmp_path / "partial.pth")
    with pytest.raises(ValueError, match=r"missing \['output_linear.bias'\]"):
        load_official_mapper(tmp_path / "partial.pth")


def test_swapped_files_are_refused(release):
    swapped = f"official:{release / OFFICIAL_FILES['exp']},{release / OFFICIAL_FILES['id']}"
    with pytest.raises(ValueError, match="swapped"):
        load_official_mappers(swapped)


def test_the_official_mappers_need_their_encoder(release):
    from cliphead.mapping.text2head import TextToHead

    id_mapper, exp_mapper = load_official_mappers(f"official:{release}")
    with pytest.raises(ValueError, match="takes 1024-d embeddings but the encoder lit-minilm gives 384-d"):
        TextToHead(id_mapper=id_mapper, exp_mapper=exp_mapper)


def test_text2head_takes_the_published_pair_and_says_what_it_needs(release, tmp_path):
    import subprocess
    import sys

    command = [sys.executable, "-m", "cliphead.cli", "text2head", "a smiling man", "--out", str(tmp_path / "x.obj")]
    result = subprocess.run([*command, "--mappers", f"official:{release}"], capture_output=True, text=True)
    assert result.returncode == 2 and "error: MLP_id takes 1024-d embeddings" in result.stderr
    both = subprocess.run(
        [*command, "--mappers", f"official:{release}", "--id-mapper", "a.safetensors"], capture_output=True, text=True
    )
    assert both.returncode == 2 and "not both" in both.stderr
