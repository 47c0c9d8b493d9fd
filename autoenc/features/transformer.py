"""A scikit-learn transformer whose ``transform`` returns autoencoder codes.

Two modes:

* ``AutoencoderFeatures(encoder="runs/x")`` wraps a given encoder (anything
  :func:`~autoenc.features.load_encoder` takes); ``fit`` only records shapes.
* ``AutoencoderFeatures(latent_dim=8, net="mlp", epochs=20)`` trains an autoencoder on ``X`` in
  ``fit`` (a plain, seeded PyTorch loop: no logger, no checkpoints) and encodes with it.

``X`` is (n_samples, n_features) flattened images, n_features = C * H * W of ``image_shape``
(default ``(1, 1, n_features)``, fine for the ``mlp`` net; conv nets need the real shape).
``transform(X)`` returns (n_samples, D) float32 codes.
"""

from __future__ import annotations

import math
from dataclasses import KW_ONLY, dataclass
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from autoenc.core.constraints import POSITIVE_INT, check_params
from autoenc.core.errors import NonFiniteLossError, UserError
from autoenc.core.image_inputs import unit_rows
from autoenc.features.encoders import FrozenEncoder, load_encoder
from autoenc.models.encoding import batched


@dataclass(repr=False, eq=False)
class AutoencoderFeatures(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Autoencoder codes as a scikit-learn transformer: (n_samples, C*H*W) -> (n_samples, D).

    Args:
        encoder: an encoder to wrap (path, ``torchvision:<model>``, model or FrozenEncoder); None
            trains one in ``fit`` from the options below.
        model: registered model to train (``ae``, ``dae``, ``vae``).
        latent_dim: code size D of the trained model.
        net: registered encoder/decoder net (``mlp``, ``conv``, ``resnet``).
        net_options: options of the net (e.g. ``{"hidden": [64]}``); None: small defaults for mlp.
        likelihood: reconstruction likelihood; ``gaussian`` takes any real X, ``bernoulli`` wants
            X in [0, 1].
        epochs, lr, batch_size: the training loop (Adam).
        image_shape: (C, H, W) of one row of X; None: the encoder's shape, else (1, 1, n_features).
        seed: fixes initialisation and batch order (the fit is reproducible).
        device: where training and encoding run.

    Attributes:
        encoder_: the fitted :class:`FrozenEncoder`; model_: the trained autoencoder (or None);
        image_shape_: (C, H, W); n_features_in_; loss_curve_: mean training loss per epoch
        (nats per image).
    """

    # The dataclass writes __init__, which only stores the parameters (scikit-learn's contract);
    # BaseEstimator keeps its own repr and equality.
    encoder: Any = None
    _: KW_ONLY
    model: str = "ae"
    latent_dim: int = 8
    net: str = "mlp"
    net_options: dict[str, Any] | None = None
    likelihood: str = "gaussian"
    epochs: int = 20
    lr: float = 1e-3
    batch_size: int = 64
    image_shape: tuple[int, int, int] | None = None
    seed: int = 0
    device: str = "cpu"

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        # Codes are float32 whatever the input dtype: torch computes in float32.
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    # -- fit ------------------------------------------------------------------------------------
    def _shape(self, n_features: int, encoder: FrozenEncoder | None) -> tuple[int, int, int]:
        if self.image_shape is not None:
            shape = tuple(int(s) for s in self.image_shape)
        elif encoder is not None and encoder.input_shape is not None:
            shape = encoder.input_shape
        else:
            shape = (1, 1, n_features)
        if len(shape) != 3 or math.prod(shape) != n_features:
            raise UserError(f"image_shape {shape} has {math.prod(shape)} values but X has {n_features} features "
                            "per row; set image_shape to the (C, H, W) of one flattened image")
        return shape  # type: ignore[return-value]

    def fit(self, X: Any, y: Any = None) -> AutoencoderFeatures:
        """Record shapes (wrapping) or train the autoencoder on X (n_samples, n_features)."""
        X = validate_data(self, self._checked(X), dtype=np.float32, ensure_min_samples=2, reset=True)
        if self.encoder is not None:
            encoder = load_encoder(self.encoder)
            self.image_shape_ = self._shape(X.shape[1], encoder)
            self.model_ = None
            self.loss_curve_ = []
        else:
            self.image_shape_ = self._shape(X.shape[1], None)
            self.model_, self.loss_curve_ = self._train(X)
            encoder = load_encoder(self.model_)
        self.encoder_ = encoder.to(self.device)
        self._n_features_out = self.encoder_.output_dim(self.image_shape_)
        return self

    def _checked(self, X: Any) -> Any:
        """X with uint8 images divided by 255; images for a given encoder (or a Bernoulli
        model) must be in [0, 1] (see :mod:`autoenc.core.image_inputs`). A Gaussian model trained here
        takes any real X."""
        if self.encoder is None and self.likelihood == "gaussian":
            return X if getattr(X, "dtype", None) != np.uint8 else X.astype(np.float32) / 255
        return unit_rows(X)

    def _train(self, X: np.ndarray) -> tuple[torch.nn.Module, list[float]]:
        from autoenc.models import MODELS

        check_params({name: [POSITIVE_INT] for name in ("epochs", "batch_size", "latent_dim")}, vars(self))
        options = self.net_options if self.net_options is not None else ({"hidden": [64]} if self.net == "mlp" else {})
        device = torch.device(self.device)
        data = torch.from_numpy(X).view(len(X), *self.image_shape_).to(device)
        curve: list[float] = []
        with torch.random.fork_rng(devices=[]):  # seeded without touching the caller's global RNG
            torch.manual_seed(self.seed)
            model = MODELS.get(self.model)(input_shape=self.image_shape_, latent_dim=int(self.latent_dim),
                                           encoder=self.net, net_options=options, likelihood=self.likelihood,
                                           lr=self.lr).to(device)
            optimizer = model.configure_optimizers()
            order = torch.Generator().manual_seed(self.seed)
            model.train()
            for epoch in range(self.epochs):
                perm = torch.randperm(len(data), generator=order).to(device)
                total = 0.0
                for start in range(0, len(data), self.batch_size):
                    batch = data[perm[start : start + self.batch_size]]
                    loss = model.training_output(batch).loss
                    if not torch.isfinite(loss):
                        raise NonFiniteLossError(f"training loss became {loss.item()} in epoch {epoch}; lower lr "
                                                 f"(now {self.lr}) or scale X")
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                    total += loss.item() * len(batch)
                curve.append(total / len(data))
        return model.eval(), curve

    # -- transform ------------------------------------------------------------------------------
    def transform(self, X: Any) -> np.ndarray:
        """X (n_samples, C*H*W) -> codes (n_samples, D) float32."""
        check_is_fitted(self, "encoder_")
        X = validate_data(self, self._checked(X), dtype=np.float32, reset=False)
        images = torch.from_numpy(np.ascontiguousarray(X)).view(len(X), *self.image_shape_)
        out = np.empty((len(X), self._n_features_out), dtype=np.float32)
        for start, (codes,) in batched(self.encoder_, images, max(int(self.batch_size), 256), self.device):
            out[start : start + len(codes)] = codes.cpu().numpy()
        return out
