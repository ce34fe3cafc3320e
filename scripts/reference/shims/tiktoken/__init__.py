"""Minimal pure-Python stand-in for `tiktoken` (only what torchtune's TikTokenBaseTokenizer uses).

Used by scripts/reference/torchtune_golden.py ONLY when the real `tiktoken` is not importable (the GPU machine
has no network). Rank-based byte-pair merging exactly as tiktoken's core: split with pat_str, look the piece up
whole, else repeatedly merge the adjacent pair whose concatenation has the lowest rank.
"""
import regex


def _bpe(piece: bytes, ranks: dict) -> list:
    if piece in ranks:
        return [ranks[piece]]
    parts = [piece[i : i + 1] for i in range(len(piece))]
    while len(parts) > 1:
        best, best_i = None, -1
        for i in range(len(parts) - 1):
            r = ranks.get(parts[i] + parts[i + 1])
            if r is not None and (best is None or r < best):
                best, best_i = r, i
        if best is None:
            break
        parts[best_i : best_i + 2] = [parts[best_i] + parts[best_i + 1]]
    return [ranks[p] for p in parts]


class Encoding:
    def __init__(self, name, *, pat_str, mergeable_ranks, special_tokens, explicit_n_vocab=None):
        self.name = name
        self._pat = regex.compile(pat_str)
        self._ranks = mergeable_ranks
        self._special = dict(special_tokens)
        self._decoder = {v: k for k, v in mergeable_ranks.items()}
        for s, i in self._special.items():
            self._decoder[i] = s.encode("utf-8")
        self.n_vocab = max(list(mergeable_ranks.values()) + list(self._special.values())) + 1
        self._cache = {}

    def encode(self, text, *, allowed_special=frozenset(), disallowed_special="all"):
        if allowed_special:
            raise NotImplementedError("shim: allowed_special is not used by torchtune")
        if disallowed_special == "all":
            disallowed_special = set(self._special)
        for s in disallowed_special or ():
            if s in text:
                raise ValueError(f"Encountered text corresponding to disallowed special token {s!r}.")
        out = []
        for m in self._pat.finditer(text):
            piece = m.group().encode("utf-8")
            hit = self._cache.get(piece)
            if hit is None:
                hit = _bpe(piece, self._ranks)
                self._cache[piece] = hit
            out.extend(hit)
        return out

    def decode(self, tokens, errors="replace"):
        return b"".join(self._decoder[t] for t in tokens).decode("utf-8", errors=errors)
