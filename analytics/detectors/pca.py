"""PCA monitoring: Hotelling's T² in the principal subspace and Q (SPE) off it.

Fitted on standardised rows of normal operation. The principal components kept explain
`explained` of the variance; T² is the squared Mahalanobis distance within them (a familiar
combination of sensors at an unusual level), Q the squared distance from their subspace (a
combination the training never showed: a broken relation between sensors). The caller
sets a limit for each from held-out training rows. Parts per sensor: its squared residual
(of Q) and its share of T² (z_j times the j-th entry of the T² metric applied to z).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

F = np.ndarray
EXPLAINED = 0.85


@dataclass(frozen=True, slots=True)
class PcaFit:
    """Loadings (sensors x k) and the k component variances."""

    loadings: F
    variances: F

    @staticmethod
    def fit(z: F, explained: float = EXPLAINED) -> PcaFit:
        """PCA of standardised training rows z (rows x sensors)."""
        cov = np.atleast_2d(np.cov(z, rowvar=False))
        vals, vecs = np.linalg.eigh(cov)
        order = np.argsort(vals)[::-1]
        vals, vecs = np.maximum(vals[order], 1e-9), vecs[:, order]
        share = np.cumsum(vals) / vals.sum()
        k = int(np.searchsorted(share, explained) + 1)
        k = min(k, max(1, z.shape[1] - 1)) if z.shape[1] > 1 else 1
        return PcaFit(vecs[:, :k], vals[:k])

    def statistics(self, z: F) -> tuple[F, F, F, F]:
        """(T², Q, T² contributions, Q contributions) per row of standardised z."""
        scores = z @ self.loadings
        t2 = np.sum(scores**2 / self.variances, axis=1)
        residual = z - scores @ self.loadings.T
        q = np.sum(residual**2, axis=1)
        # z_j * (P Λ^-1 Pᵀ z)_j sums to T² over j
        t2_parts = z * ((scores / self.variances) @ self.loadings.T)
        return t2, q, t2_parts, residual**2


@dataclass(frozen=True, slots=True)
class PcaModel:
    """T² and Q of a PCA fit, as two statistic columns with per-sensor parts."""

    fit: PcaFit

    @staticmethod
    def train(z: F) -> PcaModel:
        return PcaModel(PcaFit.fit(z))

    def statistics(self, z: F) -> tuple[F, F]:
        """Statistics (rows x 2: T², Q) and parts (rows x 2 x sensors)."""
        t2, q, t2_parts, q_parts = self.fit.statistics(z)
        return np.column_stack([t2, q]), np.stack([np.abs(t2_parts), q_parts], axis=1)
