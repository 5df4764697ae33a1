"""Training ControlNet_uv (CLIP-Head §2.3): ``cliphead train texture``.

The embedded model is trained from scratch in three phases, the way its parts are made in Stable
Diffusion + ControlNet:

1. the **autoencoder** (:mod:`cliphead.texture.autoencoder`: its latent carries the colours, the decoder the detail)
   on the textures: L1 reconstruction, weighted ``face_weight`` times on the face (6% of the whole
   layout at 128 px, and most of the attributes: lips, chin, brows), the same on 8× reduced images (the
   regions' colours), and a small KL term, the learning rate decaying on a cosine; each latent channel
   is then standardised over the training textures;
2. the **UNet** alone, text → whole-layout texture (the "base model"), v-prediction on a zero
   terminal SNR schedule (:mod:`cliphead.texture.models`), the prompt dropped 10% of the time for classifier-free
   guidance;
3. the **ControlNet**, initialised from that UNet (ControlNet paper §3.2), on (UV normal map, texture,
   caption) triples of whole layouts and face windows; the UNet keeps training with it
   (``train_unet``), since a small base trained from scratch still has much to learn;
4. the **anneal**: phase 3 continued with the learning rate decaying on a cosine to zero, the weights
   kept being an exponential moving average of the trained ones (``ema_decay``), as diffusion models
   are sampled (Ho et al. 2020 §4; Karras et al. 2022). Phase 3's loss is still falling when it ends at
   a constant rate; ``cliphead train texture --anneal`` runs this phase alone on trained weights (a
   repeat on the same weights draws its own batches and noise).

With ``--base`` (a Stable Diffusion folder) only phase 3 runs, the base frozen, as the ControlNet
paper fine-tunes on a pretrained base.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from cliphead.lab.distributed import BatchShare, accelerator, autocast, batch_share, processes, sum_gradients, summed
from cliphead.lab.texture.data import TextureDataConfig, TextureTriples
from cliphead.texture.models import ControlNetUV, TextureModelConfig
from cliphead.texture.text import PromptConditioning
from cliphead.texture.sampling import as_model_images


@dataclass(frozen=True)
class TextureTrainingConfig:
    """Steps, batch sizes and learning rates of the three phases (module doc)."""

    data: TextureDataConfig = field(default_factory=TextureDataConfig)
    model: TextureModelConfig = field(default_factory=TextureModelConfig)
    autoencoder_steps: int = 1500
    autoencoder_batch: int = 8
    autoencoder_lr: float = 1e-3
    colour_weight: float = 1.0
    face_weight: float = 8.0
    kl_weight: float = 1e-6
    unet_steps: int = 1000
    controlnet_steps: int = 1600
    anneal_steps: int = 3000
    ema_decay: float = 0.999
    batch: int = 16
    lr: float = 3e-4
    prompt_dropout: float = 0.1
    face_share: float = 0.5
    train_unet: bool = True
    snapshots: int = 4
    seed: int = 0


#: The fixed prompts the snapshots show over training (notebook 06).
SNAPSHOT_PROMPTS = (
    "A face of a young man with blue hair and a red beard",
    "An old woman with white hair, pale skin and red lipstick",
)


@dataclass
class TrainingRecord:
    """Loss per logged step (``phase``, ``step``, ``loss``, ``seconds``) and the snapshots' textures."""

    history: list[dict] = field(default_factory=list)
    snapshots: list[tuple[str, int, np.ndarray]] = field(default_factory=list)

    def log(self, phase: str, step: int, loss: float, start: float) -> None:
        self.history.append({"phase": phase, "step": step, "loss": loss, "seconds": time.perf_counter() - start})

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.history)


def _resized(images: torch.Tensor, size: int) -> torch.Tensor:
    return images if images.shape[-1] == size else F.interpolate(images, size=(size, size), mode="area")


def _progress(total: int, description: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=description, unit="step")


def face_weights(size: int, weight: float) -> torch.Tensor:
    """Per-texel weights of the autoencoder's loss, ``(2, 1, size, size)``: the whole layout's (``weight``
    on the painter's face region, 1 elsewhere) and its face window's."""
    from cliphead.lab.world.regions import region_masks
    from cliphead.texture.crop import crop_face

    whole = 1.0 + (weight - 1.0) * torch.from_numpy(region_masks(size)["face"].astype(np.float32))[None, None]
    return torch.cat([whole, crop_face(whole, size)])


def train_autoencoder(
    model: ControlNetUV, triples: TextureTriples, config: TextureTrainingConfig, record: TrainingRecord
) -> None:
    """Phase 1, on the model's device. The autoencoder standardises its latent channels itself, so the latent
    scale stays 1."""
    rng = np.random.default_rng([config.seed, 1])
    device = model.device
    textures = np.concatenate([triples.textures_whole, triples.textures_face])
    is_face = np.arange(len(textures)) >= len(triples.textures_whole)
    weights = face_weights(model.texture_size, config.face_weight).to(device)
    optimiser = torch.optim.AdamW(model.vae.parameters(), lr=config.autoencoder_lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, config.autoencoder_steps)
    model.vae.train()
    start = time.perf_counter()
    with _progress(config.autoencoder_steps, "texture: autoencoder") as bar:
        for step in range(config.autoencoder_steps):
            share = batch_share(config.autoencoder_batch)
            chosen = rng.integers(len(textures), size=config.autoencoder_batch)[share.items]
            images = _resized(as_model_images(textures[chosen], device), model.texture_size)
            with autocast():
                posterior = model.vae.encode(images).latent_dist
                reconstruction = model.vae.decode(posterior.sample()).sample
                error = reconstruction - images
                loss = (weights[is_face[chosen].astype(int)] * error.abs()).mean()
                loss = loss + config.colour_weight * F.avg_pool2d(error, 8).abs().mean()
                loss = (loss + config.kl_weight * posterior.kl().mean()) * share.weight
            optimiser.zero_grad()
            loss.backward()
            sum_gradients(model.vae.parameters())
            optimiser.step()
            schedule.step()
            batch_loss = summed(loss)
            record.log("autoencoder", step, batch_loss, start)
            bar.set_postfix(loss=f"{batch_loss:.4f}")
            bar.update()
    model.vae.eval()
    sample = textures[rng.integers(len(textures), size=min(512, len(textures)))]
    model.vae.fit_standardisation(_resized(as_model_images(sample, device), model.texture_size))


def encode_latents(model: ControlNetUV, textures: np.ndarray, batch: int = 64) -> torch.Tensor:
    """Posterior means of uint8 textures, times the model's latent scale, on the model's device."""
    chunks = []
    with torch.no_grad():
        for start in range(0, len(textures), batch):
            images = _resized(as_model_images(textures[start : start + batch], model.device), model.texture_size)
            chunks.append(model.vae.encode(images).latent_dist.mean * model.latent_scale)
    return torch.cat(chunks)


def _denoising_loss(
    model: ControlNetUV,
    latents: torch.Tensor,
    prompts: PromptConditioning,
    hints: torch.Tensor | None,
    rng: torch.Generator,
    share: BatchShare,
) -> torch.Tensor:
    """This process's weighted share of the denoising loss of a batch (``latents`` and ``hints``: the whole batch;
    ``prompts``: the share's); noise and timesteps are drawn for the whole batch from the CPU generator ``rng``
    (the same draws on every device and process), then the share's are moved to the latents' device."""
    noise = torch.randn(latents.shape, generator=rng)[share.items].to(latents.device)
    steps = torch.randint(0, model.scheduler.config.num_train_timesteps, (len(latents),), generator=rng)
    steps = steps[share.items].to(latents.device)
    latents = latents[share.items]
    noisy = model.scheduler.add_noise(latents, noise, steps)
    with autocast():
        hints = None if hints is None else hints[share.items]
        predicted = model.predict(noisy, steps, prompts.denoiser_inputs(), hints)
    target = (
        noise
        if model.scheduler.config.prediction_type == "epsilon"
        else model.scheduler.get_velocity(latents, noise, steps)
    )
    return F.mse_loss(predicted.float(), target) * share.weight


def _prompts(texts: list[str], dropout: float, rng: np.random.Generator) -> list[str]:
    return ["" if rng.random() < dropout else text for text in texts]


def _snapshot(model: ControlNetUV, triples: TextureTriples, record: TrainingRecord, phase: str, step: int) -> None:
    from cliphead.texture.sampling import SamplingSettings, generate_textures

    for module in (model.unet, model.controlnet):
        module.eval()
    hints = np.repeat(triples.normals_whole[:1], len(SNAPSHOT_PROMPTS), axis=0)
    textures = generate_textures(model, hints, SNAPSHOT_PROMPTS, SamplingSettings(steps=20))
    record.snapshots.append((phase, step, np.round(textures * 255).astype(np.uint8)))


def _phase_steps(phase: str, config: TextureTrainingConfig) -> int:
    return {"unet": config.unet_steps, "controlnet": config.controlnet_steps, "anneal": config.anneal_steps}[phase]


class WeightAverage:
    """Exponential moving average of ``modules``' parameters (phase 4), copied into them by :meth:`apply`."""

    def __init__(self, modules: list[torch.nn.Module], decay: float) -> None:
        self.decay = decay
        self.parameters = [p for module in modules for p in module.parameters()]
        self.average = [p.detach().clone() for p in self.parameters]

    @torch.no_grad()
    def update(self) -> None:
        for average, parameter in zip(self.average, self.parameters):
            average.lerp_(parameter, 1.0 - self.decay)

    @torch.no_grad()
    def apply(self) -> None:
        for average, parameter in zip(self.average, self.parameters):
            parameter.copy_(average)


def train_denoisers(
    model: ControlNetUV,
    triples: TextureTriples,
    config: TextureTrainingConfig,
    record: TrainingRecord,
    phases: tuple[str, ...] = ("unet", "controlnet", "anneal"),
    first_snapshot_step: int = 0,
) -> None:
    """Phases 2, 3 and 4 (module doc), on the model's device; ``phases=("controlnet",)`` with a frozen base
    fine-tunes a ControlNet, ``phases=("anneal",)`` continues trained weights. Snapshots are taken over phase 3
    and at the end of phase 4, numbered from ``first_snapshot_step`` on."""
    rng = np.random.default_rng([config.seed, 2])
    noise_rng = torch.Generator().manual_seed(config.seed)
    whole = encode_latents(model, triples.textures_whole)
    face = encode_latents(model, triples.textures_face)
    snapshot_steps = set(np.linspace(0, config.controlnet_steps, config.snapshots + 1).astype(int)[1:] - 1)
    anneal_offset = first_snapshot_step + (config.controlnet_steps if "controlnet" in phases else 0)
    for phase in phases:
        steps = _phase_steps(phase, config)
        trained = [model.unet] if phase == "unet" else [model.controlnet] + ([model.unet] if config.train_unet else [])
        for module in (model.unet, model.controlnet):
            module.requires_grad_(module in trained).train(module in trained)
        optimiser = torch.optim.AdamW([p for module in trained for p in module.parameters()], lr=config.lr)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, steps) if phase == "anneal" else None
        average = WeightAverage(trained, config.ema_decay) if phase == "anneal" else None
        start = time.perf_counter()
        with _progress(steps, f"texture: {phase}") as bar:
            for step in range(steps):
                share = 0.0 if phase == "unet" else config.face_share
                heads = rng.integers(len(triples.normals_whole), size=config.batch)
                chosen = rng.integers(len(triples.textures_whole), size=config.batch)
                is_face = torch.from_numpy(rng.random(config.batch) < share)
                latents = torch.where(is_face.to(model.device)[:, None, None, None], face[chosen], whole[chosen])
                texts = [str(triples.captions[t, rng.integers(triples.captions.shape[1])]) for t in chosen]
                share = batch_share(config.batch)
                prompts = model.text(_prompts(texts, config.prompt_dropout, rng)[share.items])
                hints = None
                if phase != "unet":
                    maps = np.where(
                        is_face.numpy()[:, None, None, None], triples.normals_face[heads], triples.normals_whole[heads]
                    )
                    hints = _resized(as_model_images(maps, model.device), model.texture_size)
                loss = _denoising_loss(model, latents, prompts, hints, noise_rng, share)
                optimiser.zero_grad()
                loss.backward()
                sum_gradients(p for module in trained for p in module.parameters())
                optimiser.step()
                if schedule is not None:
                    schedule.step()
                    average.update()
                batch_loss = summed(loss)
                record.log(phase, step, batch_loss, start)
                bar.set_postfix(loss=f"{batch_loss:.4f}")
                bar.update()
                if phase == "controlnet" and step in snapshot_steps:
                    _snapshot(model, triples, record, phase, first_snapshot_step + step + 1)
                    for module in trained:
                        module.train()
        if average is not None:
            average.apply()
            _snapshot(model, triples, record, phase, anneal_offset + steps)
    model.eval()


def train_texture_model(
    config: TextureTrainingConfig,
    base: str | None = None,
    workers: int | None = None,
    triples: TextureTriples | None = None,
    anneal: ControlNetUV | None = None,
    first_snapshot_step: int = 0,
    device: str = "cpu",
) -> tuple[ControlNetUV, TrainingRecord]:
    """Train the embedded ControlNet_uv from scratch, or (``base``) a ControlNet on a Stable Diffusion folder, or
    run phase 4 alone on the trained embedded model ``anneal`` (its snapshots numbered from ``first_snapshot_step``).

    The model is trained on ``device`` (``"cpu"``, ``"cuda"``, ...; batches, noise and text states are moved
    there; the noise is drawn on the CPU, so the CPU's results do not depend on this argument) and returned on
    the CPU. On a CUDA device, float32 products may use TF32 and cuDNN picks its fastest convolutions.
    """
    from cliphead.lab.texture.data import load_texture_triples
    from cliphead.texture.models import embedded_controlnet, load_stable_diffusion

    if torch.device(device).type == "cuda" and processes() > 1:
        device = accelerator().device  # each launched process on its own GPU
    if torch.device(device).type == "cuda":
        torch.set_float32_matmul_precision("high")
        torch.backends.cudnn.benchmark = True
    triples = triples or load_texture_triples(config.data, workers=workers)
    record = TrainingRecord()
    if anneal is not None:
        model = anneal.to(device)
        train_denoisers(model, triples, config, record, phases=("anneal",), first_snapshot_step=first_snapshot_step)
    elif base is None:
        model = embedded_controlnet(config.model, config.seed).to(device)
        train_autoencoder(model, triples, config, record)
        train_denoisers(model, triples, config, record)
    else:
        model = load_stable_diffusion(base).to(device)
        model.vae.eval().requires_grad_(False)
        train_denoisers(model, triples, replace(config, train_unet=False), record, phases=("controlnet",))
    return model.to("cpu"), record
