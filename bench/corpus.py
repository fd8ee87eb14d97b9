"""A deterministic, text-bearing corpus for the search and indexing benchmarks.

Words follow a Zipf distribution over a generated vocabulary (pronounceable
pseudo-words, so no word list has to be installed), the way words in notes
do: a few are everywhere, most are rare. Entries look like what agents store:
a title, a few sentences, a status, a number, nested under a key.
"""

from __future__ import annotations

import bisect
import itertools
import random
from typing import Any

VOCABULARY = 20_000
_ONSETS = ["b", "c", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "st", "tr"]
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ou"]


def vocabulary(n: int = VOCABULARY, seed: int = 7) -> list[str]:
    """``n`` distinct pseudo-words, most frequent first."""
    rng = random.Random(seed)
    words: list[str] = []
    seen: set[str] = set()
    while len(words) < n:
        word = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


class Corpus:
    """Entries and queries drawn from one vocabulary with Zipf(1.0) word frequencies."""

    def __init__(self, seed: int = 11) -> None:
        self.words = vocabulary()
        weights = [1.0 / rank for rank in range(1, len(self.words) + 1)]
        self._cumulative = list(itertools.accumulate(weights))
        self._rng = random.Random(seed)

    def word(self) -> str:
        total = self._cumulative[-1]
        return self.words[bisect.bisect(self._cumulative, self._rng.random() * total)]

    def sentence(self, n: int) -> str:
        text = " ".join(self.word() for _ in range(n))
        return text[0].upper() + text[1:] + "."

    def value(self, i: int) -> dict[str, Any]:
        """One entry's value: about 40 words in nested strings, plus numbers."""
        return {
            "title": self.sentence(self._rng.randint(3, 7)),
            "status": self._rng.choice(["open", "running", "done", "blocked"]),
            "step": i,
            "notes": [self.sentence(self._rng.randint(8, 14)) for _ in range(2)],
            "owner": {"agent": f"agent-{i % 17}", "comment": self.sentence(6)},
        }

    def key(self, i: int) -> str:
        return f"notes/topic{i % 50}/note{i:07d}"

    def two_word_query(self) -> str:
        """Two words of middling frequency (ranks 100-2,000): a typical specific query."""
        return (
            f"{self.words[self._rng.randint(100, 2000)]} {self.words[self._rng.randint(100, 2000)]}"
        )

    def rare_word(self) -> str:
        return self.words[self._rng.randint(2000, 10_000)]

    def common_word(self) -> str:
        return self.words[self._rng.randint(0, 10)]
