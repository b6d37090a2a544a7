"""Linear Thompson sampling: a Bayesian linear model of the reward, sampled to choose an arm.

The expected reward of an arm with feature vector phi (d,) is phi . w. The weights have a Gaussian
posterior N(mu, Sigma), kept in information form: precision Lambda = Sigma^-1 (d, d) and
b = Lambda mu (d,). The prior N(mu0, diag(sd0^2)) encodes what we believe before any evidence
(SpeakSphere's rule-based cold start); each observed reward y with noise sd s adds phi phi^T / s^2 to
Lambda and phi y / s^2 to b (exact Bayesian linear regression). To choose, draw one weight vector from
the posterior and take the arm whose features score highest under it (Agrawal & Goyal, ICML 2013):
arms that might be best keep being tried in proportion to that chance, and stop once evidence rules
them out.

Pure numpy, no knowledge of speech or learners; the state is plain lists for JSON.
"""

from __future__ import annotations

import numpy as np

__all__ = ["LinearThompsonSampler"]


class LinearThompsonSampler:
    """Posterior over the weights w (d,) of a linear reward model, in information form."""

    def __init__(self, precision: np.ndarray, precision_mean: np.ndarray):
        """`precision`: Lambda (d, d), symmetric positive definite; `precision_mean`: b = Lambda mu (d,)."""
        self.precision = np.array(precision, dtype=np.float64)
        self.precision_mean = np.array(precision_mean, dtype=np.float64)
        self._mean: np.ndarray | None = None  # cached until the next update
        d = self.precision_mean.shape[0]
        if self.precision.shape != (d, d):
            raise ValueError(f"precision has shape {self.precision.shape}, expected ({d}, {d})")

    @classmethod
    def from_prior(cls, mean: np.ndarray, sd: np.ndarray) -> LinearThompsonSampler:
        """A sampler before any evidence: independent Gaussian weights, `mean` (d,) and `sd` (d,) > 0."""
        mean, sd = np.asarray(mean, dtype=np.float64), np.asarray(sd, dtype=np.float64)
        if np.any(sd <= 0):
            raise ValueError("prior standard deviations must be positive")
        precision = np.diag(1.0 / sd**2)
        return cls(precision, precision @ mean)

    @property
    def dimension(self) -> int:
        return self.precision_mean.shape[0]

    def mean(self) -> np.ndarray:
        """The posterior mean of the weights, mu (d,)."""
        if self._mean is None:
            self._mean = np.linalg.solve(self.precision, self.precision_mean)
        return self._mean

    def predict(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean (n,) and standard deviation (n,) of phi . w for arms `features` (n, d)."""
        features = np.atleast_2d(features)
        covariance = np.linalg.inv(self.precision)
        variance = np.einsum("nd,de,ne->n", features, covariance, features)
        return features @ self.mean(), np.sqrt(np.maximum(variance, 0.0))

    def sample(self, rng: np.random.Generator, scale: float = 1.0) -> np.ndarray:
        """One weight vector (d,) drawn from N(mu, scale^2 Sigma); `scale` > 1 explores more."""
        cholesky = np.linalg.cholesky(self.precision)  # Lambda = L L^T, so L^-T z ~ N(0, Lambda^-1)
        z = rng.standard_normal(self.dimension)
        return self.mean() + scale * np.linalg.solve(cholesky.T, z)

    def choose(self, features: np.ndarray, rng: np.random.Generator, scale: float = 1.0) -> tuple[int, np.ndarray]:
        """Thompson sampling over arms `features` (n, d): the index of the chosen arm and the sampled
        scores (n,) of all arms. Ties (arms with equal features) go to the first; order arms to break them."""
        scores = np.atleast_2d(features) @ self.sample(rng, scale)
        return int(np.argmax(scores)), scores

    def update(self, features: np.ndarray, reward: float, noise_sd: float, weight: float = 1.0) -> None:
        """Condition on one reward `reward` observed for an arm with `features` (d,), noise sd `noise_sd`;
        weight -1 takes back the same reward conditioned on before (exactly: the sums are linear in it)."""
        phi = np.asarray(features, dtype=np.float64)
        self.precision += weight * np.outer(phi, phi) / noise_sd**2
        self.precision_mean += phi * (weight * reward / noise_sd**2)
        self._mean = None

    def to_state(self) -> dict:
        """A JSON-ready mapping."""
        return {"precision": self.precision.tolist(), "precision_mean": self.precision_mean.tolist()}

    @classmethod
    def from_state(cls, state: dict) -> LinearThompsonSampler:
        """The sampler saved by `to_state`."""
        return cls(np.asarray(state["precision"]), np.asarray(state["precision_mean"]))
