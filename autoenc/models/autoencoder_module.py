"""The shared model interface: encode / decode / forward -> AutoencoderOutput, one training loop."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, get_args

import lightning as L
import torch
from torch import nn

from autoenc.core.constraints import (
    BOOL,
    IMAGE_SHAPE,
    POSITIVE_INT,
    Constraint,
    InstanceOf,
    Interval,
    Null,
    Options,
    check_param,
    check_params,
)
from autoenc.core.errors import UserError
from autoenc.core.memory import check_nets_fit
from autoenc.core.registry import Registry
from autoenc.models.heads import CodeHead, IdentityHead
from autoenc.models.likelihoods import LIKELIHOODS
from autoenc.nets import NetOptions, net_from_config
from autoenc.nets.options import legacy_net

MODELS: Registry[type[AutoencoderModule]] = Registry("model")

#: Hyperparameters of older checkpoints that no model takes any more (the optimiser now
#: comes from LightningCLI's ``--optimizer``); :func:`upgrade_hparams` drops them.
LEGACY_HPARAMS = frozenset({"optimizer", "weight_decay"})
#: Before one class per objective (2026-12), ``vae`` hosted three objectives; these were its
#: arguments with their "off" values, which today's ``vae`` no longer has.
_VAE_OBJECTIVE_HPARAMS = {"capacity_max": None, "capacity_steps": 100_000, "gamma": 1000.0, "tc_beta": None,
                          "tc_estimator": "mss", "tc_dataset_size": None}


def upgrade_hparams(model: str, hparams: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """An older checkpoint's registered model name and hyperparameters -> today's: the one
    place that knows what older autoenc versions wrote (checkpoint reading, a resumed fit and
    the model constructors go through it; the constructors also take the older net keys
    directly). Today's names and values come back unchanged.

    * ``optimizer`` and ``weight_decay`` are dropped (the optimiser is LightningCLI's).
    * ``encoder`` / ``decoder`` / ``net_options`` become ``net``, the typed net options'
      config (:func:`~autoenc.nets.options.legacy_net`).
    * A ``vae`` with ``tc_beta`` set becomes a ``tcvae`` (:class:`~autoenc.models.vae.BetaTCVAE`,
      same ``beta``, ``tc_beta``, ``tc_estimator``, ``tc_dataset_size``); one with
      ``capacity_max`` set becomes a ``capacity_vae`` (:class:`~autoenc.models.vae.CapacityVAE`
      whose ``beta`` is the old ``gamma``; the old ``beta`` did not enter that objective);
      a plain one loses the other objectives' arguments.
    * ``_class_path`` (what LightningCLI rebuilds a resumed model from) follows the model.

    Args:
        model: the registry name the checkpoint records; hparams: its hyperparameters.
    Returns:
        (registry name, hyperparameters) for today's classes.
    """
    hp = {k: v for k, v in hparams.items() if k not in LEGACY_HPARAMS}
    if "net" not in hp and not LEGACY_NET_HPARAMS.isdisjoint(hp):
        old_net = [hp.pop(k, default) for k, default in (("encoder", "conv"), ("decoder", None), ("net_options", None))]
        hp["net"] = legacy_net(*old_net).config()
    if model == "vae" and not _VAE_OBJECTIVE_HPARAMS.keys().isdisjoint(hp):
        old = {k: hp.pop(k, default) for k, default in _VAE_OBJECTIVE_HPARAMS.items()}
        if old["tc_beta"] is not None:
            model = "tcvae"
            hp |= {k: old[k] for k in ("tc_beta", "tc_estimator", "tc_dataset_size")}
        elif old["capacity_max"] is not None:
            model = "capacity_vae"
            hp |= {"beta": old["gamma"], "capacity_max": old["capacity_max"], "capacity_steps": old["capacity_steps"]}
        if "_class_path" in hp and model != "vae":
            cls = MODELS.get(model)
            hp["_class_path"] = f"{cls.__module__}.{cls.__qualname__}"
    return model, hp


#: How checkpoints written before typed net options named the net (``encoder: conv``,
#: ``net_options: {...}``); read into ``net`` by :func:`~autoenc.nets.options.legacy_net`.
LEGACY_NET_HPARAMS = frozenset({"encoder", "decoder", "net_options"})

#: ``torch.compile`` modes the ``compile`` option takes besides true / false.
CompileMode = Literal["default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs"]
COMPILE_MODES: tuple[str, ...] = get_args(CompileMode)

#: Checkpoint key that marks a file as ours; its value names the model (registry name).
CHECKPOINT_KEY = "autoenc"
CHECKPOINT_FORMAT = 1


#: The checks of :class:`AutoencoderModule`'s arguments (see :mod:`autoenc.core.constraints`);
#: the registries then refuse unknown net and likelihood names with their known names.
PARAMS: dict[str, list[Constraint]] = {
    "latent_dim": [POSITIVE_INT],
    "input_shape": [IMAGE_SHAPE],
    "net": [Null(note="ConvNet()"), InstanceOf(NetOptions, "net options (MLPNet, ConvNet, ResNetNet)"),
            InstanceOf(dict, "their config mapping (class_path, init_args)")],
    "latent_channels": [POSITIVE_INT, Null(note="a flat code of latent_dim units")],
    "likelihood": [InstanceOf(str, "a registered likelihood name")],
    "sigma": [Interval(float, 0, None, closed="neither")],
    "lr": [Interval(float, 0, None, closed="neither")],
    "nested_dropout": [BOOL],
    "nested_dropout_p": [Interval(float, 0, 1, closed="neither")],
    "channels_last": [BOOL],
    "compile": [Options((True, False, *COMPILE_MODES))],
}


def register_model(cls: type[AutoencoderModule]) -> type[AutoencoderModule]:
    MODELS.register(cls.model_name, cls)
    return cls


@dataclass
class AutoencoderOutput:
    """What every model's ``forward`` returns.

    Attributes:
        loss: scalar the optimiser minimises (nats per image, mean over the batch).
        recon: (B, C, H, W) reconstruction mean in [0, 1].
        logits: (B, C, H, W) decoder output before the sigmoid.
        z: (B, *latent_shape) the code the decoder saw (a posterior sample for a VAE).
        recon_nll: (B,) reconstruction negative log-likelihood per image, nats.
        terms: named scalar loss terms in nats per image (``recon`` always; ``kl``,
            ``neg_elbo`` ... for a VAE), for logging.
        kl_per_dim: (latent_dim,) KL of each element of the flattened code, nats, mean over
            the batch (VAE only; None otherwise); logged per dimension (per channel, summed
            over positions, for a spatial code) at validation.
    """

    loss: torch.Tensor
    recon: torch.Tensor
    logits: torch.Tensor
    z: torch.Tensor
    recon_nll: torch.Tensor
    terms: dict[str, torch.Tensor] = field(default_factory=dict)
    kl_per_dim: torch.Tensor | None = None


class AutoencoderModule(L.LightningModule):
    """Base of all autoencoders: encoder -> latent code (``latent_shape``) -> decoder.

    Args:
        input_shape: (C, H, W) of the images; linked from the data module by the CLI.
        latent_dim: size of a flat bottleneck (unused with ``latent_channels``, where the
            checkpoint records the code size C * h * w under this name).
        net: the encoder/decoder pair and its options: ``MLPNet(hidden=...)``,
            ``ConvNet(widths=..., downsamples=...)`` or ``ResNetNet(...)`` (None:
            ``ConvNet()``); also the ``{"class_path", "init_args"}`` mapping checkpoints store.
        latent_channels: keep a spatial code of this many channels (conv and resnet nets):
            the encoder ends in a 1x1 conv to ``latent_channels`` maps at its last stage's
            resolution h x w (set by the net's ``downsamples``), the decoder begins with a
            1x1 conv expanding them; codes are (B, latent_channels, h, w). None: flat codes.
        likelihood: ``bernoulli`` or ``gaussian`` reconstruction likelihood.
        sigma: the fixed standard deviation of the gaussian likelihood.
        lr: learning rate of the default optimiser, Adam (fused where torch has a fused
            kernel for the device, else its multi-tensor ``foreach`` path). Any other
            optimiser or schedule comes from LightningCLI: ``--optimizer AdamW
            --optimizer.weight_decay 0.01 --lr_scheduler CosineAnnealingLR
            --lr_scheduler.T_max 10`` (or ``optimizer:`` / ``lr_scheduler:`` in YAML).
        channels_last: train nets that have conv layers with channels-last weights
            (NHWC; faster convolutions on CPU and GPU); the weights are back in the default
            layout after ``fit``. No effect on nets without conv layers.
        compile: ``torch.compile`` the encoder and decoder for training: ``true`` (default
            mode) or a mode name, e.g. ``reduce-overhead`` (CUDA graphs on a GPU).
            Compilation takes tens of seconds on CPU the first time, then is cached on disk;
            worth it for conv nets trained for hundreds of steps (docs/benchmarks.md).
        nested_dropout: train an ordered code (Rippel et al. 2014): each example's code is
            truncated after a unit drawn from Geometric(``nested_dropout_p``).
    """

    model_name: ClassVar[str] = ""
    #: Facts about the model family that analysis code reads instead of probing for methods:
    #: ``has_prior``: a Gaussian posterior q(z|x) and a N(0, I) prior p(z), so the model has
    #: ``posterior(x)``, ``kl_per_dim(x)`` and ``sample(n)`` (the VAE family).
    has_prior: ClassVar[bool] = False
    #: ``is_denoising``: trained on corrupted inputs (``training_output`` differs from ``forward``).
    is_denoising: ClassVar[bool] = False
    #: What each constructor parameter accepts; every subclass declares its own (tested).
    parameter_constraints: ClassVar[dict[str, list[Constraint]]] = PARAMS
    #: ``sparse_code``: most units of a code are exactly zero (TopK); traversals show the active ones.
    sparse_code: ClassVar[bool] = False

    def __init__(
        self,
        input_shape: tuple[int, int, int],
        latent_dim: int = 16,
        net: NetOptions | None = None,
        latent_channels: int | None = None,
        likelihood: Literal["bernoulli", "gaussian"] = "bernoulli",
        sigma: float = 0.1,
        lr: float = 1e-3,
        nested_dropout: bool = False,
        nested_dropout_p: float = 0.1,
        channels_last: bool = True,
        compile: bool | CompileMode = False,
        **legacy: Any,
    ) -> None:
        super().__init__()
        if set(legacy) & LEGACY_NET_HPARAMS:
            if net is not None:
                raise UserError("net and the older encoder / net_options describe the same nets; give net only")
            net = legacy_net(*(legacy.pop(k, None) for k in ("encoder", "decoder", "net_options")))
        check_params(PARAMS, locals())
        net = net_from_config(net)
        _refuse_unknown(type(self), legacy)
        self.likelihood_fn = LIKELIHOODS.get(likelihood)
        input_shape = tuple(int(s) for s in input_shape)
        self.save_hyperparameters(ignore=sorted(legacy))
        # save_hyperparameters records the keyword arguments as the call gave them, older net keys included
        for key in [*legacy, *LEGACY_NET_HPARAMS]:
            self.hparams.pop(key, None)
        self.hparams["input_shape"] = list(input_shape)  # plain types only (weights_only loading)
        self.hparams["net"] = net.config()
        self.input_shape = input_shape
        self.net = net
        spatial = latent_channels is not None
        #: Channels of a spatial code, else latent_dim: what the encoder outputs per position
        #: (twice that for a Gaussian posterior, see :meth:`encoder_outputs`).
        self.code_channels = int(latent_channels) if spatial else latent_dim  # type: ignore[arg-type]
        per_channel = self.encoder_outputs() // self.code_channels  # 2 for a Gaussian posterior
        check_nets_fit(lambda c: (net.encoder(input_shape, per_channel * c, spatial=spatial),
                                  net.decoder(input_shape, c, spatial=spatial)), self.code_channels, input_shape)
        self.encoder = net.encoder(input_shape, self.encoder_outputs(), spatial=spatial)
        self.decoder = net.decoder(input_shape, self.code_channels, spatial=spatial)
        #: Shape of one code: ``(latent_dim,)``, or ``(latent_channels, h, w)`` for a spatial code.
        self.latent_shape: tuple[int, ...] = (self.code_channels, *self.encoder.code_shape[1:])
        #: Size of the flattened code, C * h * w for a spatial one.
        self.latent_dim = math.prod(self.latent_shape)
        self.hparams["latent_dim"] = self.latent_dim
        self._compiled = False

    # -- the interface ---------------------------------------------------------------------
    def encoder_outputs(self) -> int:
        """Outputs (channels of a spatial code) of the encoder: ``code_channels``, twice that
        for a Gaussian posterior."""
        return self.code_channels

    @property
    def latent_size(self) -> int:
        """Numbers in one code, prod(latent_shape): what summaries report as the code size."""
        return math.prod(self.latent_shape)

    def code_head(self) -> CodeHead:
        """The step of :meth:`encode` after the encoder net (exports store it, see
        :mod:`autoenc.models.heads`); the net's output itself here."""
        return IdentityHead()

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, C, H, W) in [0, 1] -> deterministic code (B, *latent_shape):
        ``code_head()(encoder(x))``, the only definition of the code."""
        z = self.code_head()(self.encoder(x))
        return z.reshape(len(z), *self.latent_shape)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """z: (B, *latent_shape) -> (B, C, H, W) logits."""
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z: (B, *latent_shape) -> (B, C, H, W) image mean in [0, 1]."""
        return torch.sigmoid(self.decode_logits(z))

    def reconstruction_nll(self, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """(B,) negative log-likelihood of x under the decoder, summed over pixels, nats."""
        return self.likelihood_fn(logits, x, self.hparams.sigma)

    def forward(self, x: torch.Tensor) -> AutoencoderOutput:
        z = self.encode(x)
        return self._output(x, self.truncate_code(z))

    def _output(self, target: torch.Tensor, z: torch.Tensor, **extra: torch.Tensor) -> AutoencoderOutput:
        logits = self.decode_logits(z)
        nll = self.reconstruction_nll(logits, target)
        recon = nll.mean()
        return AutoencoderOutput(loss=recon, recon=torch.sigmoid(logits), logits=logits, z=z,
                                 recon_nll=nll, terms={"recon": recon, **extra})

    # -- ordered codes (nested dropout) ---------------------------------------------------------
    def truncate_code(self, z: torch.Tensor) -> torch.Tensor:
        """During training with ``nested_dropout``, keep each row's units 0..b and zero the rest,
        b ~ Geometric(p) on {0, 1, ...} drawn per row (b = 0 keeps only the first unit; b is
        clipped at latent_shape[0] - 1, which then keeps the whole code). Rippel et al. 2014,
        "Learning ordered representations with nested dropout", Sec. 3. Identity otherwise.
        A spatial code's units are its channels (every position of a kept channel is kept).

        z: (B, *latent_shape) -> the same shape."""
        if not (self.hparams.nested_dropout and self.training):
            return z
        # Inverse-CDF draw on z's device: P(b >= n) = (1 - p)^n  <=>  b = floor(log(1 - u) / log(1 - p)).
        u = torch.rand(z.shape[0], device=z.device)
        b = torch.floor(torch.log1p(-u) / math.log1p(-self.hparams.nested_dropout_p))
        return keep_prefix(z, b.clamp_(max=self.latent_shape[0] - 1) + 1)

    def decode_prefix(self, z: torch.Tensor, k: int) -> torch.Tensor:
        """Decode from the first ``k`` units (channels of a spatial code) of z only, the others
        zeroed (how nested dropout trains an ordered code): z (B, *latent_shape) -> image mean
        (B, C, H, W) in [0, 1]."""
        return self.decode(keep_prefix(z, k))

    # -- Lightning -------------------------------------------------------------------------------
    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        out = self.training_output(batch[0])
        if self._logs_this_step():
            self.log_dict({f"train/{k}": v.detach() for k, v in out.terms.items()} | {"train/loss": out.loss.detach()},
                          on_step=True, on_epoch=False, prog_bar=False, batch_size=len(batch[0]))
        return out.loss

    def _logs_this_step(self) -> bool:
        """True on the steps the Trainer writes to its loggers (every ``log_every_n_steps``):
        logging only then keeps Lightning's per-step bookkeeping off the other steps."""
        trainer = self._trainer
        if trainer is None:
            return False
        every = max(1, trainer.log_every_n_steps)
        return (self.global_step + 1) % every == 0 or trainer.should_stop

    def training_output(self, x: torch.Tensor) -> AutoencoderOutput:
        """The output whose loss is optimised (denoising models corrupt ``x`` here)."""
        return self(x)

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self._add_eval_batch(self(batch[0]), len(batch[0]))

    test_step = validation_step

    def on_validation_epoch_start(self) -> None:
        self._eval_sums: tuple[list[str], torch.Tensor, int] | None = None

    on_test_epoch_start = on_validation_epoch_start

    def on_validation_epoch_end(self) -> None:
        self._log_eval("val")

    def on_test_epoch_end(self) -> None:
        self._log_eval("test")

    def _add_eval_batch(self, out: AutoencoderOutput, batch_size: int) -> None:
        """Add one evaluation batch to the epoch's sums: the loss terms, the loss and the KL of
        each latent dimension, each times the batch size, in one tensor on the device.

        The epoch's means are logged once, at the epoch's end (:meth:`_log_eval`): a
        ``self.log`` call per metric per batch cost more CPU than a small model's validation
        forward (docs/benchmarks.md, the digits profile)."""
        names = [*out.terms, "loss"]
        values = [*(v.detach().float().reshape(()) for v in out.terms.values()), out.loss.detach().float().reshape(())]
        flat = torch.stack(values)
        if out.kl_per_dim is not None:
            kl = out.kl_per_dim.detach().float().reshape(-1)
            if len(self.latent_shape) > 1:  # a spatial code: the KL of each channel map
                kl = channel_sums(kl, self.latent_shape)
                names += [f"kl_channel_{c}" for c in range(len(kl))]
            else:
                names += [f"kl_dim_{i}" for i in range(len(kl))]
            flat = torch.cat([flat, kl])
        sums = getattr(self, "_eval_sums", None)
        if sums is None:
            self._eval_sums = (names, flat * batch_size, batch_size)
        else:
            self._eval_sums = (sums[0], sums[1] + flat * batch_size, sums[2] + batch_size)

    def _log_eval(self, stage: str) -> None:
        """Log the epoch means of the loss terms, the loss and the KL of each latent dimension
        (``<stage>/loss`` ...), weighted by batch size; in data-parallel runs the sums and
        counts of every process are added first, so all ranks agree on val/loss."""
        sums = getattr(self, "_eval_sums", None)
        if sums is None:
            return
        names, total, count = sums
        self._eval_sums = None
        totals = torch.cat([total, total.new_tensor([count])])
        if self.trainer.world_size > 1:
            totals = self.trainer.strategy.reduce(totals, reduce_op="sum")
        means = totals[:-1] / totals[-1]
        self.log_dict({f"{stage}/{k}": v for k, v in zip(names, means, strict=True)}, on_step=False, on_epoch=True,
                      prog_bar=False)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        """Adam with ``lr``: the fused kernel where the parameters' device has one (CPU and
        CUDA in torch >= 2.4: one kernel per step instead of a loop over parameters), else
        torch's default. LightningCLI's ``--optimizer`` / ``--lr_scheduler`` replace this."""
        return fast_adam(self.parameters(), lr=self.hparams.lr)

    # -- training-speed levers (fit only) ---------------------------------------------------------
    @property
    def cuda_graph_outputs(self) -> bool:
        """Whether the nets run as CUDA graphs (``compile: reduce-overhead``): their outputs live
        in a memory pool the next graph replay may overwrite, so an output read after another
        net ran must be cloned first."""
        return self._compiled and self.hparams.get("compile") == "reduce-overhead"

    def setup(self, stage: str) -> None:
        """Before the Trainer builds the optimiser: channels-last weights for conv nets, and
        the compiled nets, when asked for (``channels_last``, ``compile``)."""
        if stage == "fit" and self.hparams.get("channels_last", False) and has_conv(self):
            self.to(memory_format=torch.channels_last)
        if stage == "fit" and self.hparams.get("compile", False) and not self._compiled:
            # compile the nets' forward in place: parameter names, state_dict and checkpoints
            # stay those of the eager module
            mode = None if self.hparams.compile is True else self.hparams.compile
            self.encoder.compile(mode=mode)
            self.decoder.compile(mode=mode)
            self._compiled = True

    def on_train_start(self) -> None:
        """After a resume: optimiser state in the layout of its parameter (a checkpoint
        written with contiguous weights, resumed with channels-last ones); fused Adam reads
        memory in the parameter's order and would otherwise mix up elements."""
        for optimizer in self.trainer.optimizers:
            align_optimizer_state(optimizer)

    def on_fit_end(self) -> None:
        """Weights back in the default (contiguous) layout, so exports and ``state_dict``
        consumers see the usual strides."""
        if has_conv(self):
            self.to(memory_format=torch.contiguous_format)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint[CHECKPOINT_KEY] = {"format": CHECKPOINT_FORMAT, "model": self.model_name}
        hparams = {k: v for k, v in self.hparams.items() if not k.startswith("_")}
        # LightningCLI rebuilds the model of `--ckpt_path` from `_class_path` + these
        # arguments (without it, the subclass-mode parser refuses e.g. a VAE's `beta`).
        hparams["_class_path"] = f"{type(self).__module__}.{type(self).__qualname__}"
        checkpoint["hyper_parameters"] = _plain(hparams)


def _refuse_unknown(cls: type[AutoencoderModule], legacy: Mapping[str, Any]) -> None:
    """Accept (and drop) what an older checkpoint of ``cls`` recorded without effect today
    (:data:`LEGACY_HPARAMS`, the other objectives' arguments at their "off" values), for
    Lightning's own ``load_from_checkpoint``; refuse the rest.

    Raises:
        UserError: the arguments make another class now (``tc_beta`` given to the ``vae``).
        TypeError: unknown arguments, or old ones with a value that would be ignored.
    """
    model, _ = upgrade_hparams(cls.model_name, legacy)
    if model != cls.model_name:
        now = MODELS.get(model).__name__
        raise UserError(f"{cls.__name__} does not take {', '.join(sorted(legacy.keys() - LEGACY_HPARAMS))}: "
                        f"since one class per objective they make a {now} (use class_path {now})")
    off = _VAE_OBJECTIVE_HPARAMS if cls.model_name == "vae" else {}
    unknown = sorted(k for k, v in legacy.items() if k not in LEGACY_HPARAMS and (k not in off or off[k] != v))
    if unknown:
        raise TypeError(f"{cls.__name__} got unexpected keyword arguments {unknown}")


def channel_sums(values: torch.Tensor, latent_shape: tuple[int, ...]) -> torch.Tensor:
    """Per-element values of a flattened spatial code, (C * h * w,) in ``latent_shape`` (C, h, w)
    order, summed over positions: (C,) (e.g. the KL of each channel in nats from ``kl_per_dim``)."""
    return values.reshape(latent_shape).flatten(1).sum(1)


def keep_prefix(z: torch.Tensor, k: int | torch.Tensor) -> torch.Tensor:
    """z (B, D) or (B, D, h, w) with units (channels) k, k+1, ... zeroed: ``k`` is one count
    for every row or a (B,) tensor of counts per row. k >= D keeps everything; k = 0 zeroes
    the whole code."""
    if not isinstance(k, torch.Tensor):
        k = torch.tensor(check_param("prefix size", [Interval(int, 0, None, closed="left")], k))
    units = torch.arange(z.shape[1], device=z.device)
    keep = units < k.to(z.device).reshape(-1, 1)
    return z * keep.reshape(*keep.shape, *(1,) * (z.ndim - 2)).to(z.dtype)


def _plain(value: Any) -> Any:
    """Nested dicts/lists/tuples of builtins only, so checkpoints load with weights_only=True."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"hyperparameter value {value!r} is not plain data")


def fast_adam(params: Any, lr: float = 1e-3, **kwargs: Any) -> torch.optim.Adam:
    """``torch.optim.Adam(params, lr, fused=True, **kwargs)`` where every parameter is a
    floating tensor on a device with a fused kernel; otherwise torch's default implementation
    (``foreach`` where it applies). Same update rule either way."""
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, fused=True, **kwargs)
    except (RuntimeError, ValueError):  # device or dtype without a fused kernel
        return torch.optim.Adam(params, lr=lr, **kwargs)


def align_optimizer_state(optimizer: torch.optim.Optimizer) -> None:
    """Give every per-parameter state tensor of ``optimizer`` (e.g. Adam's ``exp_avg``) that
    has its parameter's shape the parameter's strides too (values unchanged)."""
    for param, state in optimizer.state.items():
        for key, value in state.items():
            if isinstance(value, torch.Tensor) and value.shape == param.shape and value.stride() != param.stride():
                state[key] = torch.empty_like(param, dtype=value.dtype).copy_(value)


def has_conv(module: nn.Module) -> bool:
    """True if ``module`` holds a 2-D (transposed) convolution, where channels-last pays."""
    return any(isinstance(m, nn.Conv2d | nn.ConvTranspose2d) for m in module.modules())


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
