"""tiktoken.load.load_tiktoken_bpe for local files: one `base64(token bytes) rank` line per token."""
import base64


def load_tiktoken_bpe(path, expected_hash=None):
    with open(path, "rb") as f:
        data = f.read()
    return {base64.b64decode(tok): int(rank) for tok, rank in (line.split() for line in data.splitlines() if line)}
