"""The NAB v1.1 scorer (written from the rules in the corpus README) and the corpus runner.

Scoring: one threshold per detector and profile for the whole corpus; probationary rows are
not scored; the earliest detection in a window earns A_TP·σ(y)/σ(-1) (y from -1 at the left
edge to 0 at the right); a missed window costs A_FN; a detection outside windows costs
A_FP·σ(d) after a window (d = distance past it / its width) or A_FP before the first one;
normalised = 100·(raw - null)/(perfect - null).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PROFILES = {
    "standard": (1.0, 0.11, 1.0),
    "reward_low_FP_rate": (1.0, 0.22, 1.0),
    "reward_low_FN_rate": (1.0, 0.11, 2.0),
}
PUBLISHED = {  # standard / low FP / low FN, from the corpus README
    "ARTime": (74.9, 65.1, 80.4),
    "Numenta HTM": (70.5, 62.6, 75.2),
    "CAD OSE": (69.9, 67.0, 73.2),
    "earthgecko Skyline": (58.2, 46.2, 63.9),
    "KNN CAD": (58.0, 43.4, 64.8),
    "Relative Entropy": (54.6, 47.6, 58.8),
    "Random Cut Forest": (51.7, 38.4, 59.7),
    "Twitter ADVec": (47.1, 33.6, 53.5),
    "Windowed Gaussian": (39.6, 20.9, 47.4),
    "Random": (11.0, 1.2, 19.5),
}


def sigma(y: np.ndarray | float) -> np.ndarray:
    """NAB's scaled sigmoid 2/(1+e^{5y}) - 1."""
    return np.asarray(2.0 / (1.0 + np.exp(5.0 * np.asarray(y, dtype=float))) - 1.0)


@dataclass(frozen=True, slots=True)
class NabFile:
    """One corpus file: values and its label windows as inclusive row ranges."""

    name: str
    values: np.ndarray
    windows: tuple[tuple[int, int], ...]

    @property
    def probation(self) -> int:
        """Rows at the start that are not scored."""
        return min(math.floor(0.15 * len(self.values)), 750)


def default_dir(repo_root: Path) -> Path:
    """The corpus beside the clone: <repo>/../shared/data/nab."""
    return repo_root.parent / "shared" / "data" / "nab"


def load_corpus(nab_dir: Path) -> list[NabFile]:
    """Every labelled file of the corpus, sorted by name."""
    labels = json.loads((nab_dir / "labels" / "combined_windows.json").read_text())
    files = []
    for name in sorted(labels):
        with (nab_dir / "data" / name).open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        stamps = np.array([np.datetime64(r["timestamp"]) for r in rows])
        values = np.array([float(r["value"]) for r in rows])
        windows = tuple(_window_rows(stamps, w) for w in labels[name])
        files.append(NabFile(name, values, windows))
    return files


def _window_rows(stamps: np.ndarray, window: list[str]) -> tuple[int, int]:
    start, end = (np.datetime64(w.replace(" ", "T")) for w in window)
    inside = np.flatnonzero((stamps >= start) & (stamps <= end))
    return int(inside[0]), int(inside[-1])


def score_file(f: NabFile, detected: np.ndarray, profile: str) -> tuple[float, int, int, int]:
    """Raw score, true positives, false positives, false negatives of one file."""
    a_tp, a_fp, a_fn = PROFILES[profile]
    hits = np.flatnonzero(detected)
    hits = hits[hits >= f.probation]
    raw, tp, fp = 0.0, 0, 0
    in_window = np.zeros(len(hits), dtype=bool)
    for s, e in f.windows:
        mask = (hits >= s) & (hits <= e)
        in_window |= mask
        if mask.any():
            first = hits[mask][0]
            y = -(e - first) / (e - s + 1)
            raw += a_tp * float(sigma(y)) / float(sigma(-1.0))
            tp += 1
        else:
            raw -= a_fn
    for h in hits[~in_window]:
        raw += a_fp * _fp_weight(f.windows, int(h))
        fp += 1
    return raw, tp, fp, len(f.windows) - tp


def _fp_weight(windows: tuple[tuple[int, int], ...], i: int) -> float:
    before = [(s, e) for s, e in windows if e < i]
    if not before:
        return -1.0
    s, e = before[-1]
    return float(sigma((i - e) / (e - s + 1)))


def normalised(raw: float, files: list[NabFile], profile: str) -> float:
    """100·(raw - null)/(perfect - null) for the whole corpus."""
    a_tp, _, a_fn = PROFILES[profile]
    n = sum(len(f.windows) for f in files)
    null, perfect = -a_fn * n, a_tp * n
    return 100.0 * (raw - null) / (perfect - null)


def corpus_score(
    files: list[NabFile], scores: list[np.ndarray], profile: str, threshold: float
) -> float:
    """Normalised score of per-row anomaly scores at one threshold."""
    raw = sum(score_file(f, s >= threshold, profile)[0] for f, s in zip(files, scores, strict=True))
    return normalised(raw, files, profile)


def best_threshold(
    files: list[NabFile], scores: list[np.ndarray], profile: str, grid: np.ndarray | None = None
) -> tuple[float, float]:
    """(threshold, normalised score) maximising the profile's score, as NAB's optimiser does."""
    grid = np.round(np.arange(0.3, 0.99, 0.01), 3) if grid is None else grid
    results = [(corpus_score(files, scores, profile, float(t)), float(t)) for t in grid]
    score, threshold = max(results)
    return threshold, score


def run(files: list[NabFile], detector: Callable[[NabFile], np.ndarray]) -> list[np.ndarray]:
    """Per-row scores of a detector for every file."""
    return [detector(f) for f in files]
