"""The sparse TopK autoencoder: capacity bounded by the number of active units, not the width."""

from __future__ import annotations

from typing import Any

import torch

from autoenc.core.constraints import Interval, Null, check_param, check_params
from autoenc.core.errors import UserError
from autoenc.models.autoencoder_module import AutoencoderModule, AutoencoderOutput, register_model
from autoenc.models.heads import CodeHead, TopKHead

#: The checks of :class:`TopKAutoencoder`'s own arguments (``k`` also against ``latent_dim``).
TOPK_PARAMS = {
    "k": [Interval(int, 1, None, closed="left")],
    "aux_k": [Interval(int, 1, None, closed="left"), Null()],
    "aux_alpha": [Interval(float, 0, None, closed="left")],
    "dead_after": [Interval(int, 1, None, closed="left")],
}


@register_model
class TopKAutoencoder(AutoencoderModule):
    """Sparse autoencoder with a TopK bottleneck (Makhzani & Frey 2013, "k-Sparse
    Autoencoders"; Gao et al. 2024, "Scaling and evaluating sparse autoencoders").

    Per image the ``k`` largest of the ``latent_dim`` encoder pre-activations are kept and
    ReLU'd, the others are zero; ``encode`` returns that code, (B, latent_dim) with at most
    ``k`` non-zeros per row (exactly ``k`` unless ReLU zeroes some of the k largest). The loss
    is the reconstruction NLL (nats per image), plus, with ``aux_k``, ``aux_alpha`` times the
    AuxK loss.

    Dead units: a unit is dead when it was not among any image's non-zeros during the last
    ``dead_after`` training images; their number is logged as ``train/dead_units``.

    AuxK (Gao et al. 2024, Sec. 2.4 and App. A.2), for a non-linear decoder: the ``aux_k``
    largest pre-activations among the dead units (as they are, not ReLU'd, so units whose
    pre-activations are all negative still get a gradient) are added to the detached live code,
    and ``aux`` is the reconstruction NLL of the image from that sum (nats per image). Only the
    dead units (and the decoder) learn from it: it asks them to explain what the live code
    misses, which brings them back to life. Zero when no unit is dead.

    Args:
        k: non-zeros per code, 1 <= k <= latent_dim.
        aux_k: dead units the auxiliary loss uses (None: no auxiliary loss; Gao et al. use 2k
            to 512).
        aux_alpha: weight of the auxiliary loss (Gao et al.: 1/32).
        dead_after: training images without firing after which a unit counts as dead.
        (other arguments: :class:`AutoencoderModule`)
    """

    model_name = "topk"
    sparse_code = True
    parameter_constraints = TOPK_PARAMS

    def __init__(self, input_shape: tuple[int, int, int], latent_dim: int = 64, k: int = 8,
                 aux_k: int | None = None, aux_alpha: float = 1 / 32, dead_after: int = 10_000,
                 **kwargs: Any) -> None:
        check_params(TOPK_PARAMS, locals())
        if isinstance(latent_dim, int) and not isinstance(latent_dim, bool) and latent_dim >= 1:
            check_param("k", [Interval(int, 1, latent_dim, note=f"latent_dim is {latent_dim}")], k)
        if kwargs.get("nested_dropout"):
            raise UserError("nested_dropout orders a dense code by truncating it; a TopK code is sparse "
                            "(its k units are anywhere), so set nested_dropout false or use model ae")
        super().__init__(input_shape, latent_dim, **kwargs)
        #: (latent_dim,) training images seen since each unit last fired (not saved in checkpoints).
        self.register_buffer("since_fired", torch.zeros(latent_dim, dtype=torch.long), persistent=False)

    def code_head(self) -> CodeHead:
        return TopKHead(self.hparams.k)

    def dead_units(self) -> torch.Tensor:
        """(latent_dim,) bool: units that fired in none of the last ``dead_after`` training images."""
        return self.since_fired >= self.hparams.dead_after

    def training_output(self, x: torch.Tensor) -> AutoencoderOutput:
        pre = self.encoder(x)
        z = self.code_head()(pre)
        out = self._output(x, self.truncate_code(z))
        with torch.no_grad():
            fired = (z != 0).any(0)
            self.since_fired.add_(len(x)).masked_fill_(fired, 0)
        dead = self.dead_units()
        n_dead = dead.sum()
        if self.hparams.aux_k is not None:
            aux = self._aux_loss(x, pre, z, dead, n_dead)
            out.loss = out.loss + self.hparams.aux_alpha * aux
            out.terms["aux"] = aux
        if self._logs_this_step():
            self.log("train/dead_units", n_dead.float(), on_step=True, on_epoch=False, batch_size=len(x))
        return out

    def _aux_loss(self, x: torch.Tensor, pre: torch.Tensor, z: torch.Tensor, dead: torch.Tensor,
                  n_dead: torch.Tensor) -> torch.Tensor:
        """AuxK in nats per image (see the class docstring); 0 without dead units."""
        if not bool(n_dead):
            return pre.new_zeros(())
        k = min(int(self.hparams.aux_k), int(n_dead))
        masked = pre.masked_fill(~dead, float("-inf"))
        values, index = masked.topk(k, dim=1, sorted=False)
        # Without the code's ReLU: a unit whose pre-activations are all negative (the usual dead
        # unit) would get no gradient through it and could never come back.
        z_aux = torch.zeros_like(pre).scatter_(1, index, values)
        return self.reconstruction_nll(self.decode_logits(z.detach() + z_aux), x).mean()
