"""Few-shot example selection for the prompted baselines: nearest training inputs (TF-IDF retrieval, a RAG-style
baseline) and a random-k control, so a gain from fine-tuning is not a gain from showing examples."""

from __future__ import annotations

import random
from collections.abc import Sequence

from core.config import PromptStyle
from core.formatting import Messages
from core.pack import Example, Pack

SHOT_MAX_CHARS = 1200


class Retriever:
    def __init__(self, train: Sequence[Example]):
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.train = list(train)
        self.vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
        self.matrix = self.vec.fit_transform(e.text for e in self.train)

    def nearest(self, text: str, k: int, exclude_id: str | None = None) -> list[Example]:
        """The k most similar training examples; never the example itself (by id or by identical text), so a
        training prompt cannot show its own answer."""
        sims = (self.vec.transform([text]) @ self.matrix.T).toarray().ravel()
        out: list[Example] = []
        for i in sims.argsort()[::-1]:
            ex = self.train[i]
            if exclude_id is not None and (ex.id == exclude_id or ex.text == text):
                continue
            out.append(ex)
            if len(out) == k:
                break
        return out


def random_shots(train: Sequence[Example], k: int, seed: int, example_id: str) -> list[Example]:
    rng = random.Random(f"{seed}:{example_id}")
    return rng.sample(list(train), min(k, len(train)))


def few_shot_messages(
    pack: Pack, example: Example | str, shots: Sequence[Example], *, style: PromptStyle = "full"
) -> Messages:
    """System prompt, then each shot as a user/assistant turn pair, then the real input."""
    messages = pack.prompt_messages(example, style=style)
    system, rest = messages[:1], messages[1:]
    turns: Messages = []
    for shot in shots:
        text = shot.text if len(shot.text) <= SHOT_MAX_CHARS else shot.text[:SHOT_MAX_CHARS] + " …"
        turns.append({"role": "user", "content": pack.user_message(text)})
        turns.append({"role": "assistant", "content": shot.target})
    return system + turns + rest
