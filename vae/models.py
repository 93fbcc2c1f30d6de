"""The VAE model: an MLP or convolutional encoder/decoder, optionally class-conditional."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from itertools import pairwise
from numbers import Integral, Real
from typing import Literal, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

Arch = Literal["mlp", "conv"]
MAX_MEMBERS = 10  # networks in an ensemble (`VAEConfig.members`)
MAX_FOURIER_FEATURES = 1024  # `VAEConfig.fourier_features`: a checkpoint's config is untrusted
Likelihood = Literal["bernoulli", "gaussian"]


@dataclass(frozen=True)
class VAEConfig:
    """Everything needed to rebuild a VAE (saved inside every checkpoint).

    `hidden` are the widths of the fully connected layers (for `conv`, the ones after the
    convolutions); `conv_channels` are used by `conv` only. `num_classes > 0` makes a
    conditional VAE: a one-hot label enters both encoder and decoder. `clusters > 0` makes a
    clustering VAE: a categorical latent y of that many values beside z, inferred from the image by
    the encoder (never given a label) and fed to the decoder as the CVAE's label is (`vae.clusters`).
    `head_classes > 0` adds seed 004's classifier head to an unconditional VAE: the encoder's last
    layer also predicts the label (one of that many values), trained with `head_weight` × cross-entropy
    beside the ELBO; its uncertainty is a novelty score (`vae.anomaly`, method "head").
    `members > 1` makes a conditional VAE an ensemble: it carries `members − 1` more networks of its shape,
    trained alone from other seeds and put together afterwards (`assemble_ensemble`); as a classifier its class
    scores are its networks' mean (`vae.anomaly.class_score_matrix`), while pictures and codes come from the first.
    `fourier_features > 0`: the decoder reads z through that many random Fourier features (`FourierFeatures`).
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
    clusters: int = 0
    head_classes: int = 0
    head_weight: float = 1.0
    members: int = 1
    fourier_features: int = 0

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
            ("members", Integral, "a whole number"),
            ("fourier_features", Integral, "a whole number"),
            ("clusters", Integral, "a whole number"),
            ("head_classes", Integral, "a whole number"),
            ("head_weight", Real, "a number"),
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
        if self.clusters < 0 or self.clusters == 1:
            raise ValueError(f"clusters must be 0 (no categorical latent) or at least 2, got {self.clusters}")
        if self.clusters and self.num_classes:
            raise ValueError("a model is either conditional on labels (num_classes) or finds clusters, not both")
        if self.head_classes < 0 or self.head_classes == 1:
            raise ValueError(f"head_classes must be 0 (no classifier head) or at least 2, got {self.head_classes}")
        if self.head_classes and (self.num_classes or self.clusters):
            raise ValueError("a classifier head predicts the label: it goes on an unconditional VAE without clusters")
        if not 0 <= self.head_weight < float("inf"):
            raise ValueError(f"head_weight must be non-negative and finite, got {self.head_weight}")
        if not 1 <= self.members <= MAX_MEMBERS:  # a checkpoint's config is untrusted: each member is a whole network
            raise ValueError(f"members must be from 1 to {MAX_MEMBERS}, got {self.members}")
        if not 0 <= self.fourier_features <= MAX_FOURIER_FEATURES:
            raise ValueError(f"fourier_features must be from 0 to {MAX_FOURIER_FEATURES}, got {self.fourier_features}")
        if self.members > 1 and not self.conditional:
            raise ValueError("an ensemble averages class scores: its members must be conditional VAEs (num_classes)")
        if self.likelihood not in ("bernoulli", "gaussian"):
            raise ValueError(f"likelihood must be 'bernoulli' or 'gaussian', got {self.likelihood!r}")
        if not 0 < self.gaussian_std < float("inf"):  # written so that NaN fails too
            raise ValueError(f"gaussian_std must be positive and finite, got {self.gaussian_std}")
        if not 0 <= self.beta < float("inf"):
            raise ValueError(f"beta must be non-negative and finite, got {self.beta}")

    @property
    def conditional(self) -> bool:
        """The encoder and decoder are given the class label."""
        return self.num_classes > 0

    @property
    def decoder_labels(self) -> int:
        """How many values the decoder's one-hot input takes: classes (CVAE), clusters, or 0."""
        return self.num_classes or self.clusters

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


MODEL_KINDS = ("vae", "cvae", "clusters", "classifier")  # what the CLI's --model and the Train page offer


def kind_fields(kind: str, clusters: int = 10, head_weight: float = 10.0, classes: int = 10) -> dict:
    """The `VAEConfig` fields that make a model of `kind`: conditional (cvae), clustering or with a classifier head."""
    if kind not in MODEL_KINDS:
        raise ValueError(f"unknown model kind {kind!r}; choose one of {', '.join(MODEL_KINDS)}")
    return {
        "num_classes": classes if kind == "cvae" else 0,
        "clusters": clusters if kind == "clusters" else 0,
        "head_classes": classes if kind == "classifier" else 0,
        "head_weight": head_weight if kind == "classifier" else 1.0,
    }


class FourierFeatures(nn.Module):
    """z → [z, sin(Bz), cos(Bz)], B a fixed random [n, latent_dim] matrix drawn from N(0, 1) (Tancik et al. 2020).

    An MLP fed a 2-D code draws smooth functions of it; the sines and cosines give the decoder a few more
    wiggles to work with, so two nearby codes can decode to more different digits. B is drawn once, when the
    model is built, and saved with the weights; it is never trained.
    """

    def __init__(self, latent_dim: int, n: int) -> None:
        super().__init__()
        self.register_buffer("frequencies", torch.randn(n, latent_dim))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        angles = z @ self.frequencies.T
        return torch.cat([z, torch.sin(angles), torch.cos(angles)], dim=1)


@torch.no_grad()
def initialise_layers(module: nn.Module, generator: torch.Generator) -> None:
    """PyTorch's default initialisation of every layer in `module`, drawn from `generator` (as
    `manual_seed(s)` then building the layers gives), so threads training side by side repeat exactly."""
    for buffer in module.buffers():  # statistics fitted after training start at zero
        buffer.zero_()
    for layer in module.modules():
        if isinstance(layer, nn.Linear | nn.Conv2d | nn.ConvTranspose2d):
            nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
            bound = 1 / math.sqrt(layer.weight[0].numel())  # 1 / sqrt(fan_in), as PyTorch computes it
            nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
        elif isinstance(layer, FourierFeatures):
            layer.frequencies.normal_(generator=generator)


class VAEOutput(NamedTuple):
    """What a forward pass returns: decoder logits, posterior parameters and the sampled z.

    A clustering VAE also returns q(y|x)'s logits (`cluster_logits`) and the y it decoded with; a VAE with
    a classifier head its logits over the labels (`class_logits`).
    """

    logits: torch.Tensor
    mu: torch.Tensor
    logvar: torch.Tensor
    z: torch.Tensor
    cluster_logits: torch.Tensor | None = None
    y: torch.Tensor | None = None
    class_logits: torch.Tensor | None = None


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

    gumbel_temperature: float = 0.5  # a clustering VAE's; training lowers it over a run (`vae.clusters`)

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
        n_cls = config.num_classes  # the label the encoder is given (CVAE only)

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
        if config.clusters:
            self.to_cluster = nn.Linear(config.hidden[-1], config.clusters)  # q(y|x)'s logits
        if config.head_classes:
            self.to_class = nn.Linear(config.hidden[-1], config.head_classes)  # the classifier head's logits
            # The "combined" novelty score's scale: mean and sd of its parts (head energy, ink) on held-out normal
            # images, rows in `vae.anomaly.combined_parts`' order; an sd of 0 = not yet calibrated.
            self.register_buffer("novelty_norms", torch.zeros(2, 2))

        if n_cls:
            # Where each class's training codes lie (`vae.generation.fit_class_codes`): a Gaussian per class, the
            # mean and covariance of the codes q(z|x, y) of its training images. All zeros = not fitted.
            self.register_buffer("class_code_means", torch.zeros(n_cls, config.latent_dim))
            self.register_buffer("class_code_covariances", torch.zeros(n_cls, config.latent_dim, config.latent_dim))

        n_fourier = config.fourier_features
        self.decoder_input = FourierFeatures(config.latent_dim, n_fourier) if n_fourier else nn.Identity()
        dec_sizes = [config.latent_dim + 2 * n_fourier + config.decoder_labels, *reversed(config.hidden), features]
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

        if config.members > 1:  # an ensemble's other networks, each a whole VAE of the same shape
            self.members = nn.ModuleList(VAE(replace(config, members=1)) for _ in range(config.members - 1))

    def networks(self) -> tuple[VAE, ...]:
        """The networks whose class scores an ensemble averages: this one, then its other members (just this one
        for a single VAE)."""
        return (self, *self.members) if self.config.members > 1 else (self,)

    @property
    def device(self) -> torch.device:
        """Where the weights are."""
        return self.to_mu.weight.device

    # --- conditioning -------------------------------------------------------------------
    def _one_hot(self, y: torch.Tensor | None, n: int, values: int, what: str) -> torch.Tensor:
        """`y` as n one-hot rows of `values` columns (one label broadcast to all n), checked."""
        y = torch.as_tensor(y, dtype=torch.long, device=self.device).reshape(-1)
        if y.numel() == 1 and n > 1:
            y = y.expand(n)
        if y.numel() != n:
            raise ValueError(f"got {y.numel()} {what}s for {n} inputs")
        if y.min() < 0 or y.max() >= values:
            raise ValueError(f"{what}s must lie in 0..{values - 1}")
        return F.one_hot(y, values).float()

    def _encoder_label(self, y: torch.Tensor | None, n: int) -> torch.Tensor | None:
        """A CVAE's one-hot label for the encoder; None for the other kinds (their encoder takes no label)."""
        if self.config.conditional:
            if y is None:
                raise ValueError(f"this VAE is conditional on {self.config.num_classes} classes: pass y (int64 labels)")
            return self._one_hot(y, n, self.config.num_classes, "label")
        if y is not None:
            kind = "a clustering VAE: it infers its clusters itself" if self.config.clusters else "unconditional"
            raise ValueError(f"this VAE is {kind}; call it with y=None")
        return None

    def _decoder_label(self, y: torch.Tensor | None, n: int) -> torch.Tensor | None:
        """The decoder's one-hot input: a CVAE's class or a clustering VAE's cluster (None for a plain VAE)."""
        config = self.config
        if not config.decoder_labels:
            if y is not None:
                raise ValueError("this VAE is unconditional: call it with y=None")
            return None
        if y is None:
            if config.clusters:
                raise ValueError(
                    f"this VAE decodes a code as one of its {config.clusters} clusters: pass y (cluster ids)"
                )
            raise ValueError(f"this VAE is conditional on {config.num_classes} classes: pass y (int64 labels)")
        if y.is_floating_point() and y.dim() == 2:  # already one-hot, or a relaxed (Gumbel-softmax) sample
            if tuple(y.shape) != (n, config.decoder_labels):
                raise ValueError(f"expected {n} rows of {config.decoder_labels} probabilities, got {list(y.shape)}")
            return y.to(self.device)
        return self._one_hot(y, n, config.decoder_labels, "cluster id" if config.clusters else "label")

    @staticmethod
    def _with_label(h: torch.Tensor, onehot: torch.Tensor | None) -> torch.Tensor:
        return h if onehot is None else torch.cat([h, onehot], dim=1)

    # --- the model ----------------------------------------------------------------------
    def _features(self, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        """The encoder's last hidden layer, shared by q(z|x) and (clustering VAE) q(y|x)."""
        if tuple(x.shape[1:]) != self.config.image_shape:
            raise ValueError(
                f"expected images of shape [N, {', '.join(map(str, self.config.image_shape))}], got {list(x.shape)}"
            )
        h = self.encoder_convs(x)
        return self.encoder_body(self._with_label(h, self._encoder_label(y, len(x))))

    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Images in [0, 1], shape [N, C, H, W] → posterior mean and log-variance, each [N, latent_dim]."""
        h = self._features(x, y)
        return self.to_mu(h), self.to_logvar(h)

    def cluster_logits(self, x: torch.Tensor) -> torch.Tensor:
        """A clustering VAE's q(y|x) as logits [N, clusters]."""
        if not self.config.clusters:
            raise ValueError("only a clustering VAE (VAEConfig(clusters=K)) has clusters")
        return self.to_cluster(self._features(x, None))

    def class_logits(self, x: torch.Tensor) -> torch.Tensor:
        """The classifier head's logits over the labels, [N, head_classes]."""
        if not self.config.head_classes:
            raise ValueError("only a VAE with a classifier head (VAEConfig(head_classes=C)) predicts labels")
        return self.to_class(self._features(x, None))

    @torch.no_grad()
    def cluster_probs(self, x: torch.Tensor) -> torch.Tensor:
        """q(y|x): each image's probability of every cluster, [N, clusters] (rows sum to 1)."""
        return torch.softmax(self.cluster_logits(x), dim=1)

    def decode_logits(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Latent codes [N, latent_dim] → decoder logits [N, C, H, W] (what the loss uses).

        `y`: a CVAE's class, or a clustering VAE's cluster (ids, or one-hot / relaxed rows [N, K]).
        """
        h = self.decoder_body(self._with_label(self.decoder_input(z), self._decoder_label(y, len(z))))
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
        """Encode, sample z (noise from `generator`, else the global RNG) and decode.

        A clustering VAE also samples y from q(y|x): in training mode a Gumbel-softmax relaxation at
        `self.gumbel_temperature` (differentiable), in eval mode a one-hot draw.
        """
        if not self.config.clusters:
            h = self._features(x, y)
            mu, logvar = self.to_mu(h), self.to_logvar(h)
            z = self.reparameterize(mu, logvar, generator)
            class_logits = self.to_class(h) if self.config.head_classes else None
            return VAEOutput(self.decode_logits(z, y), mu, logvar, z, class_logits=class_logits)
        from vae.clusters import gumbel_softmax

        if y is not None:
            raise ValueError("a clustering VAE infers y itself: call it with y=None")
        h = self._features(x, None)
        mu, logvar, logits = self.to_mu(h), self.to_logvar(h), self.to_cluster(h)
        z = self.reparameterize(mu, logvar, generator)
        if self.training:
            y_sample = gumbel_softmax(logits, self.gumbel_temperature, generator)
        else:
            drawn = torch.multinomial(torch.softmax(logits, 1), 1, generator=generator).squeeze(1)
            y_sample = F.one_hot(drawn, self.config.clusters).float()
        return VAEOutput(self.decode_logits(z, y_sample), mu, logvar, z, logits, y_sample)

    def reconstruction_logits(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Decoder logits of the posterior mean (a clustering VAE: in its most probable cluster)."""
        mu, _ = self.encode(x, y)
        if self.config.clusters:
            y = self.cluster_logits(x).argmax(1)
        return self.decode_logits(mu, y)

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """The model's best guess of x, in [0, 1]: `reconstruction_logits` through a sigmoid."""
        return torch.sigmoid(self.reconstruction_logits(x, y))

    @torch.no_grad()
    def sample(
        self,
        n: int,
        y: torch.Tensor | int | None = None,
        temperature: float = 1.0,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Draw n images from the prior (z scaled by `temperature`); `y` picks a CVAE's class or a cluster.

        A clustering VAE without `y` draws each image's cluster from its uniform prior.
        """
        z = temperature * torch.randn(n, self.config.latent_dim, generator=generator)
        if y is None and self.config.clusters:
            y = torch.randint(self.config.clusters, (n,), generator=generator)
        return self.decode(z.to(self.device), None if y is None else torch.as_tensor(y))


# An ensemble's networks are stored in half precision: two networks in float32 would outgrow the 10 MB a shipped
# checkpoint may weigh, and rounding a CVAE's weights to float16 moves its test accuracy by a hundredth of a point.
ENSEMBLE_WEIGHTS_DTYPE = torch.float16


def assemble_ensemble(models: list[VAE]) -> VAE:
    """One ensemble VAE from trained conditional VAEs of the same configuration (the first gives pictures and codes).

    Seeds of one recipe disagree on the digits each gets wrong; the mean of their class scores names more digits
    right than any of them (`bench.generative_classifier`). Each network keeps its own fitted statistics.
    """
    if len(models) < 2:
        raise ValueError(f"an ensemble needs at least 2 models, got {len(models)}")
    first = models[0].config
    if any(model.config.members != 1 for model in models):
        raise ValueError("ensembles are assembled from single models, not from other ensembles")
    if any(model.config != first for model in models[1:]):
        raise ValueError("an ensemble's members must share one configuration (network, latent size, classes)")
    ensemble = VAE(replace(first, members=len(models)))  # valid only for conditional models: the config says why
    weights = dict(models[0].state_dict())
    for i, member in enumerate(models[1:]):
        weights.update({f"members.{i}.{name}": tensor for name, tensor in member.state_dict().items()})
    ensemble.load_state_dict(weights)
    with torch.no_grad():  # rounded now to what its checkpoint stores, so that what is measured is what ships
        for parameter in ensemble.parameters():
            parameter.copy_(parameter.to(ENSEMBLE_WEIGHTS_DTYPE))
    return ensemble.to(models[0].device).eval()
