"""The VAE model: an MLP or convolutional encoder/decoder, optionally class-conditional."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from itertools import pairwise
from numbers import Integral, Real
from typing import Literal, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

Arch = Literal["mlp", "conv"]
Likelihood = Literal["bernoulli", "gaussian"]


@dataclass(frozen=True)
class VAEConfig:
    """Everything needed to rebuild a VAE (saved inside every checkpoint).

    `hidden` are the widths of the fully connected layers (for `conv`, the ones after the
    convolutions); `conv_channels` are used by `conv` only. `num_classes > 0` makes a
    conditional VAE: a one-hot label enters both encoder and decoder.
    """

    image_shape: tuple[int, int, int] = (1, 28, 28)
    latent_dim: int = 2
    hidden: tuple[int, ...] = (512, 256)
    arch: Arch = "mlp"
    conv_channels: tuple[int, ...] = (32, 64)
    num_classes: int = 0
    likelihood: Likelihood = "bernoulli"
    gaussian_std: float = 0.1
    beta: float = 1.0

    def __post_init__(self) -> None:
        # Tuples survive a round trip through a checkpoint as lists; normalise them back.
        object.__setattr__(self, "image_shape", tuple(int(s) for s in self.image_shape))
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        object.__setattr__(self, "conv_channels", tuple(int(c) for c in self.conv_channels))
        self.validate()

    def validate(self) -> None:
        """Raise ValueError with a readable message for a configuration that cannot work."""
        for name, kind, what in (
            ("latent_dim", Integral, "a whole number"),
            ("num_classes", Integral, "a whole number"),
            ("gaussian_std", Real, "a number"),
            ("beta", Real, "a number"),
        ):  # a checkpoint's config is untrusted data: check types before comparing values
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, kind):
                raise ValueError(f"{name} must be {what}, got {value!r}")
        if len(self.image_shape) != 3 or min(self.image_shape) < 1:
            raise ValueError(f"image_shape must be (C, H, W) with positive sizes, got {self.image_shape}")
        if self.latent_dim < 1:
            raise ValueError(f"latent_dim must be at least 1, got {self.latent_dim}")
        if not self.hidden or any(h < 1 for h in self.hidden):
            raise ValueError(f"hidden must list at least one positive layer width, got {self.hidden}")
        if self.arch not in ("mlp", "conv"):
            raise ValueError(f"arch must be 'mlp' or 'conv', got {self.arch!r}")
        if self.arch == "conv":
            if not self.conv_channels or any(c < 1 for c in self.conv_channels):
                raise ValueError(f"conv_channels must be positive, got {self.conv_channels}")
            smallest = 2 ** len(self.conv_channels)
            if min(self.image_shape[1:]) < smallest:
                raise ValueError(
                    f"a conv VAE with {len(self.conv_channels)} stride-2 layers needs images of at "
                    f"least {smallest}x{smallest} pixels, got {self.image_shape[1]}x{self.image_shape[2]}"
                )
        if self.num_classes < 0:
            raise ValueError(f"num_classes must be 0 (unconditional) or positive, got {self.num_classes}")
        if self.likelihood not in ("bernoulli", "gaussian"):
            raise ValueError(f"likelihood must be 'bernoulli' or 'gaussian', got {self.likelihood!r}")
        if not 0 < self.gaussian_std < float("inf"):  # written so that NaN fails too
            raise ValueError(f"gaussian_std must be positive and finite, got {self.gaussian_std}")
        if not 0 <= self.beta < float("inf"):
            raise ValueError(f"beta must be non-negative and finite, got {self.beta}")

    @property
    def conditional(self) -> bool:
        return self.num_classes > 0

    def to_dict(self) -> dict:
        """Plain types only, so a checkpoint can be read with `weights_only=True`."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict) -> VAEConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown VAEConfig fields: {sorted(unknown)}")
        return cls(**values)


@torch.no_grad()
def initialise_layers(module: nn.Module, generator: torch.Generator) -> None:
    """PyTorch's default initialisation of every layer in `module`, drawn from `generator` (as
    `manual_seed(s)` then building the layers gives), so threads training side by side repeat exactly."""
    for layer in module.modules():
        if isinstance(layer, nn.Linear | nn.Conv2d | nn.ConvTranspose2d):
            nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
            bound = 1 / math.sqrt(layer.weight[0].numel())  # 1 / sqrt(fan_in), as PyTorch computes it
            nn.init.uniform_(layer.bias, -bound, bound, generator=generator)


class VAEOutput(NamedTuple):
    """What a forward pass returns: decoder logits, posterior parameters and the sampled z."""

    logits: torch.Tensor
    mu: torch.Tensor
    logvar: torch.Tensor
    z: torch.Tensor


def _mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers with ReLU between them (none after the last)."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class VAE(nn.Module):
    """Gaussian encoder q(z|x[,y]), decoder p(x|z[,y]) returning logits, prior N(0, I).

    With a `seed`, the initial weights come from a generator of their own: the same seed gives the same
    weights even while other threads use torch's global RNG. Without one they come from the global RNG.
    """

    def __init__(self, config: VAEConfig, seed: int | None = None) -> None:
        super().__init__()
        self.config = config
        if seed is None:
            self._build_layers()
        else:  # shapes first, then every value from the generator: the global RNG is neither read nor advanced
            with torch.device("meta"):
                self._build_layers()
            self.to_empty(device="cpu")
            initialise_layers(self, torch.Generator().manual_seed(seed))

    def _build_layers(self) -> None:
        config = self.config
        c, h, w = config.image_shape
        n_cls = config.num_classes

        if config.arch == "conv":
            # Each stride-2 conv halves H and W (rounding down); remember the sizes so the
            # decoder can undo them exactly, whatever the image size.
            self.spatial_sizes = [(h, w)]
            enc_convs: list[nn.Module] = []
            in_ch = c
            for ch in config.conv_channels:
                enc_convs += [nn.Conv2d(in_ch, ch, 4, stride=2, padding=1), nn.ReLU()]
                in_ch = ch
                ph, pw = self.spatial_sizes[-1]
                self.spatial_sizes.append((ph // 2, pw // 2))
            self.encoder_convs = nn.Sequential(*enc_convs, nn.Flatten())
            fh, fw = self.spatial_sizes[-1]
            features = in_ch * fh * fw
        else:
            self.encoder_convs = nn.Flatten()
            features = c * h * w

        self.encoder_body = nn.Sequential(_mlp([features + n_cls, *config.hidden]), nn.ReLU())
        self.to_mu = nn.Linear(config.hidden[-1], config.latent_dim)
        self.to_logvar = nn.Linear(config.hidden[-1], config.latent_dim)

        dec_sizes = [config.latent_dim + n_cls, *reversed(config.hidden), features]
        if config.arch == "conv":
            self.decoder_body = nn.Sequential(_mlp(dec_sizes), nn.ReLU())
            dec_convs: list[nn.Module] = [nn.Unflatten(1, (config.conv_channels[-1], fh, fw))]
            channels = [*reversed(config.conv_channels), c]
            sizes = list(reversed(self.spatial_sizes))
            for i, (ch_in, ch_out) in enumerate(pairwise(channels)):
                (sh, sw), (th, tw) = sizes[i], sizes[i + 1]
                pad = (th - 2 * sh, tw - 2 * sw)  # 1 where the encoder rounded an odd size down
                dec_convs.append(nn.ConvTranspose2d(ch_in, ch_out, 4, stride=2, padding=1, output_padding=pad))
                if i < len(channels) - 2:
                    dec_convs.append(nn.ReLU())
            self.decoder_head = nn.Sequential(*dec_convs)
        else:
            self.decoder_body = _mlp(dec_sizes)
            self.decoder_head = nn.Unflatten(1, config.image_shape)

    @property
    def device(self) -> torch.device:
        """Where the weights are."""
        return self.to_mu.weight.device

    # --- conditioning -------------------------------------------------------------------
    def _one_hot(self, y: torch.Tensor | None, n: int) -> torch.Tensor | None:
        """Check `y` against the model's kind and return its one-hot code (None if unconditional)."""
        if not self.config.conditional:
            if y is not None:
                raise ValueError("this VAE is unconditional: call it with y=None")
            return None
        if y is None:
            raise ValueError(f"this VAE is conditional on {self.config.num_classes} classes: pass y (int64 labels)")
        y = torch.as_tensor(y, dtype=torch.long, device=self.device).reshape(-1)
        if y.numel() == 1 and n > 1:
            y = y.expand(n)
        if y.numel() != n:
            raise ValueError(f"got {y.numel()} labels for {n} inputs")
        if y.min() < 0 or y.max() >= self.config.num_classes:
            raise ValueError(f"labels must lie in 0..{self.config.num_classes - 1}")
        return F.one_hot(y, self.config.num_classes).float()

    @staticmethod
    def _with_label(h: torch.Tensor, onehot: torch.Tensor | None) -> torch.Tensor:
        return h if onehot is None else torch.cat([h, onehot], dim=1)

    # --- the model ----------------------------------------------------------------------
    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Images in [0, 1], shape [N, C, H, W] → posterior mean and log-variance, each [N, latent_dim]."""
        if tuple(x.shape[1:]) != self.config.image_shape:
            raise ValueError(
                f"expected images of shape [N, {', '.join(map(str, self.config.image_shape))}], got {list(x.shape)}"
            )
        h = self.encoder_convs(x)
        h = self.encoder_body(self._with_label(h, self._one_hot(y, len(x))))
        return self.to_mu(h), self.to_logvar(h)

    def decode_logits(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Latent codes [N, latent_dim] → decoder logits [N, C, H, W] (what the loss uses)."""
        h = self.decoder_body(self._with_label(z, self._one_hot(y, len(z))))
        return self.decoder_head(h)

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Latent codes → mean image in [0, 1] (for display)."""
        return torch.sigmoid(self.decode_logits(z, y))

    @staticmethod
    def reparameterize(
        mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """z = mu + sigma * eps, so gradients flow through mu and sigma; eps from `generator` (on mu's device)."""
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=mu.device)
        return mu + torch.exp(0.5 * logvar) * eps

    def forward(
        self, x: torch.Tensor, y: torch.Tensor | None = None, generator: torch.Generator | None = None
    ) -> VAEOutput:
        """Encode, sample z (noise from `generator`, else the global RNG) and decode."""
        mu, logvar = self.encode(x, y)
        z = self.reparameterize(mu, logvar, generator)
        return VAEOutput(self.decode_logits(z, y), mu, logvar, z)

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Decode the posterior mean: the model's best guess of x, in [0, 1]."""
        mu, _ = self.encode(x, y)
        return self.decode(mu, y)

    @torch.no_grad()
    def sample(
        self,
        n: int,
        y: torch.Tensor | int | None = None,
        temperature: float = 1.0,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Draw n images from the prior (scaled by `temperature`); `y` picks the class of a CVAE."""
        z = temperature * torch.randn(n, self.config.latent_dim, generator=generator)
        return self.decode(z.to(self.device), None if y is None else torch.as_tensor(y))
