"""ID estimators: a registry of small dataclasses reading one shared neighbour table.

Every estimator states how many neighbours it needs (:meth:`Estimator.neighbours_needed`),
so one k-nearest-neighbour pass serves all the estimators requested together. Estimator
math is O(N k) numpy in float64; the neighbour search is in :mod:`.neighbours`.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from autoenc.core.errors import UserError
from autoenc.core.registry import Registry
from autoenc.measure.intrinsic_dim.gride import gride_mle
from autoenc.measure.intrinsic_dim.result import ScaleCurve

SUBSAMPLE_SIZE = "subsample size"
NEIGHBOUR_RANK = "neighbour rank n1"


@dataclass(frozen=True)
class Sample:
    """What an estimator reads.

    Attributes:
        x: (n, D) float64 points, unique.
        distances: (n, k) float64 distances to each point's k nearest other points,
            ascending; k >= every estimator's :meth:`Estimator.neighbours_needed`.
    """

    x: np.ndarray
    distances: np.ndarray


@dataclass(frozen=True)
class Estimate:
    """One estimator's answer on one sample: the value, named extras, optional curve."""

    value: float
    extra: dict[str, float] = field(default_factory=dict)
    curve: ScaleCurve | None = None


class Estimator(ABC):
    """Base of registered ID estimators (subclasses are frozen dataclasses of parameters).

    Class attributes:
        name: registry name.
        linear: True if it measures a linear dimension (PCA) rather than a nonlinear one.
        curve_axis: the scale its curve runs over: :data:`SUBSAMPLE_SIZE` (curve made by
            repeated subsampling) or :data:`NEIGHBOUR_RANK` (curve made by the estimator).
    """

    name: ClassVar[str]
    linear: ClassVar[bool] = False
    curve_axis: ClassVar[str] = SUBSAMPLE_SIZE

    def neighbours_needed(self) -> int:
        """Nearest neighbours per point the estimator reads (0: it reads only ``x``)."""
        return 0

    @abstractmethod
    def estimate(self, sample: Sample) -> Estimate:
        """The ID of ``sample``."""

    def parameters(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]


ESTIMATORS: Registry[type[Estimator]] = Registry("ID estimator")


def _register(cls: type[Estimator]) -> type[Estimator]:
    ESTIMATORS.register(cls.name, cls)
    return cls


def make_estimator(name: str, **parameters: Any) -> Estimator:
    """Build the estimator registered as ``name`` with ``parameters``.

    Raises:
        UserError: unknown name (lists the known ones) or parameter (lists the valid ones).
    """
    cls = ESTIMATORS.get(name)
    valid = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    unknown = sorted(set(parameters) - set(valid))
    if unknown:
        raise UserError(f"{name} has no parameter {', '.join(unknown)}; valid: {', '.join(valid) or '(none)'}")
    return cls(**parameters)


@_register
@dataclass(frozen=True)
class TwoNN(Estimator):
    """TwoNN (Facco et al. 2017, Sci. Rep. 7:12140).

    mu = r2 / r1 follows a Pareto law with exponent d, so -log(1 - F(mu)) = d log mu. With
    mu sorted and F_emp(mu_i) = i / N, the largest ``discard_fraction`` of the ratios are
    dropped and d is the least-squares slope through the origin (as scikit-dimension's
    ``TwoNN``). ``discard_fraction=0`` still drops the largest ratio, where F_emp = 1.
    """

    discard_fraction: float = 0.1
    name: ClassVar[str] = "twonn"

    def __post_init__(self) -> None:
        if not 0.0 <= self.discard_fraction < 1.0:
            raise UserError(f"twonn discard_fraction must be in [0, 1), got {self.discard_fraction}")

    def neighbours_needed(self) -> int:
        return 2

    def estimate(self, sample: Sample) -> Estimate:
        r = sample.distances
        mu = np.sort(r[:, 1] / r[:, 0])
        n = len(mu)
        keep = min(int(n * (1 - self.discard_fraction)), n - 1)
        if keep < 2:
            raise UserError(f"twonn keeps {keep} of {n} ratios with discard_fraction={self.discard_fraction}; "
                            "use more points or a smaller discard_fraction")
        log_mu = np.log(mu[:keep])
        if not log_mu @ log_mu > 0:  # every kept ratio is 1: no scale information (ties of discrete data)
            raise UserError("twonn: every point's first and second neighbours are equally far (ratio 1), as in "
                            "boolean or one-hot data; the data are too discrete for TwoNN: use pca, or gride with a "
                            "larger n1")
        y = -np.log(1.0 - np.arange(1, keep + 1) / n)
        return Estimate(float(log_mu @ y / (log_mu @ log_mu)))


@_register
@dataclass(frozen=True)
class MLE(Estimator):
    """Levina-Bickel maximum likelihood (NIPS 2004) with MacKay-Ghahramani's correction.

    Per point, 1 / m_i = sum_{j<k} log(T_k / T_j) / (k - 1) over its k nearest distances T;
    the estimate is 1 / mean_i(1 / m_i): the inverses are averaged (MacKay & Ghahramani
    2005), as ``skdim.id.MLE`` with ``comb="mle"``. The extras repeat it at each k in
    ``also_k`` below ``k``, from the same neighbours ("k=5", "k=10").
    """

    k: int = 20
    also_k: tuple[int, ...] = (5, 10)
    name: ClassVar[str] = "mle"

    def __post_init__(self) -> None:
        for value in (self.k, *self.also_k):
            if int(value) != value or value < 2:
                raise UserError(f"mle k must be an integer >= 2, got {value}")

    def neighbours_needed(self) -> int:
        return int(self.k)

    def estimate(self, sample: Sample) -> Estimate:
        extra = {f"k={k}": _levina_bickel(sample.distances, k) for k in self.also_k if k < self.k}
        return Estimate(_levina_bickel(sample.distances, self.k), extra)

    def parameters(self) -> dict[str, Any]:
        return {"k": int(self.k), "also_k": [int(k) for k in self.also_k]}


def _levina_bickel(distances: np.ndarray, k: int) -> float:
    """MLE of the ID from the first k neighbour distances (N, >=k): 1 / mean(1 / m_i)."""
    t = distances[:, :k]
    inverse = np.log(t[:, -1:] / t[:, :-1]).sum(1) / (k - 1)  # 1 / m_i, (N,)
    if not inverse.mean() > 0:  # all k neighbours equally far from every point
        raise UserError(f"mle: every point's {k} nearest neighbours are equally far, as in boolean or one-hot data; "
                        "the data are too discrete for MLE at this k: raise k or use pca")
    return float(1.0 / inverse.mean())


@_register
@dataclass(frozen=True)
class Gride(Estimator):
    """Gride, the Generalized Ratio ID Estimator (Denti et al. 2022, Sci. Rep. 12:20005).

    mu = r_{n2} / r_{n1} with n2 = 2 n1 has a density in closed form; the ID maximises its
    likelihood (:func:`.gride.gride_mle`). The value is at rank ``n1``; the curve scans
    n1 = 1, 2, 4, ... while 2 n1 <= ``max_rank``, each with its standard error, which shows
    how the ID changes from the noise scale to the curvature scale without decimating data.
    """

    n1: int = 1
    max_rank: int = 64
    name: ClassVar[str] = "gride"
    curve_axis: ClassVar[str] = NEIGHBOUR_RANK

    def __post_init__(self) -> None:
        if int(self.n1) != self.n1 or self.n1 < 1:
            raise UserError(f"gride n1 must be an integer >= 1, got {self.n1}")
        if int(self.max_rank) != self.max_rank or self.max_rank < 2:
            raise UserError(f"gride max_rank must be an integer >= 2, got {self.max_rank}")

    def neighbours_needed(self) -> int:
        return int(max(2 * self.n1, self.max_rank))

    def estimate(self, sample: Sample) -> Estimate:
        value, stderr = gride_mle(sample.distances, self.n1, 2 * self.n1)
        ranks = [2**i for i in range(int(np.log2(self.max_rank)))]
        fits = [gride_mle(sample.distances, n1, 2 * n1) for n1 in ranks]
        curve = ScaleCurve(NEIGHBOUR_RANK, x=[float(n1) for n1 in ranks], value=[d for d, _ in fits],
                           error=[e for _, e in fits])
        return Estimate(value, {"stderr": stderr, "n2": float(2 * self.n1)}, curve)


@_register
@dataclass(frozen=True)
class PCA(Estimator):
    """Linear dimension from the covariance spectrum lambda_1 >= lambda_2 >= ...

    The value is the number of components explaining ``variance`` of the total; the extra
    "participation_ratio" is (sum lambda)^2 / sum lambda^2. Both count directions of a
    linear subspace, so a curved manifold gives more than its intrinsic dimension.
    """

    variance: float = 0.9
    name: ClassVar[str] = "pca"
    linear: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if not 0.0 < self.variance <= 1.0:
            raise UserError(f"pca variance must be in (0, 1], got {self.variance}")

    def estimate(self, sample: Sample) -> Estimate:
        spectrum = covariance_spectrum(sample.x)
        total = spectrum.sum()
        explained = np.cumsum(spectrum) / total
        # A small tolerance so that exactly reaching the target counts (5 of 5 equal axes).
        components = int(np.searchsorted(explained, self.variance - 1e-12) + 1)
        ratio = float(total**2 / (spectrum**2).sum())
        return Estimate(float(components), {"participation_ratio": ratio})


def covariance_spectrum(x: np.ndarray) -> np.ndarray:
    """Eigenvalues (descending, >= 0) of the covariance of ``x`` (n, D) float64.

    Uses the D x D covariance or, when n < D (flattened images), the n x n Gram matrix,
    which has the same nonzero eigenvalues at a fraction of the cost.
    """
    centred = x - x.mean(0)
    gram = centred.T @ centred if x.shape[0] >= x.shape[1] else centred @ centred.T
    values = np.linalg.eigvalsh(gram / max(x.shape[0] - 1, 1))
    return np.clip(values[::-1], 0.0, None)
