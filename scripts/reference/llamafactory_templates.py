#!/usr/bin/env python3
"""Dumps every chat template LLaMA-Factory registers (src/llamafactory/data/template.py) as data:
core/frameworks/llamafactory/templates.json, read by core/frameworks/llamafactory/template.ts.

It imports LLaMA-Factory's REAL template.py / formatter.py / mm_plugin.py (see llamafactory_import.py for the two
stubs) and writes, per TEMPLATES entry, the slots of each formatter exactly as register_template() built them
(defaults filled in), the class (Template, Llama2Template, ReasoningTemplate, ...), default_system, stop_words,
thought_words, tool_call_words, efficient_eos, replace_eos, enable_thinking, preserve_thinking and the multimodal
plugin's placeholder tokens; and the tool prompts of tool_utils.py's default / qwen / llama3 formats. Slots are strings (with {{content}} / {{idx}}), {"token": "..."} (one token by name) and
{"special": "bos_token" | "eos_token"} (the Python set {"bos_token"} / {"eos_token"}).

Regenerate (env: /work/pyref = python3.11 venv with transformers==5.17.0 tokenizers==0.23.2 torch datasets peft):
  git --git-dir=/work/.mirror/hiyouga+LLaMA-Factory/repo archive HEAD | tar -x -C /tmp/lf-src
  /work/pyref/bin/python scripts/reference/llamafactory_templates.py /tmp/lf-src > core/frameworks/llamafactory/templates.json
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from llamafactory_import import commit_of, load  # noqa: E402


def slot_json(slot):
    if isinstance(slot, str):
        return slot
    if isinstance(slot, dict):
        return {"token": slot["token"]}
    if isinstance(slot, set):
        (name,) = tuple(slot)
        return {"special": name}
    raise TypeError(f"unexpected slot {slot!r}")


def formatter_json(f):
    out = {"kind": type(f).__name__, "slots": [slot_json(s) for s in f.slots]}
    if f.tool_format is not None:
        out["tool_format"] = f.tool_format
    return out


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("LLAMAFACTORY_SRC", "/tmp/lf-src")
    lf = load(src)
    templates = {}
    for name, t in lf.template.TEMPLATES.items():
        plugin = t.mm_plugin
        templates[name] = {
            "class": [c.__name__ for c in type(t).__mro__ if c.__name__.endswith("Template")],
            "format_user": formatter_json(t.format_user),
            "format_assistant": formatter_json(t.format_assistant),
            "format_system": formatter_json(t.format_system),
            "format_function": formatter_json(t.format_function),
            "format_observation": formatter_json(t.format_observation),
            "format_tools": formatter_json(t.format_tools),
            "format_prefix": formatter_json(t.format_prefix),
            "default_system": t.default_system,
            "stop_words": list(t.stop_words),
            "thought_words": list(t.thought_words),
            "tool_call_words": list(t.tool_call_words),
            "efficient_eos": t.efficient_eos,
            "replace_eos": t.replace_eos,
            "enable_thinking": t.enable_thinking,
            "preserve_thinking": t.preserve_thinking,
            "mm_plugin": {
                "class": type(plugin).__name__,
                "image_token": plugin.image_token,
                "video_token": plugin.video_token,
                "audio_token": plugin.audio_token,
            },
        }
    import llamafactory.data.tool_utils as tool_utils

    # The prompt texts of the tool formats core/frameworks/llamafactory/toolUtils.ts reproduces (str.format strings).
    tool_prompts = {"default": tool_utils.DEFAULT_TOOL_PROMPT, "qwen": tool_utils.QWEN_TOOL_PROMPT,
                    "llama3": tool_utils.LLAMA3_TOOL_PROMPT}
    doc = {
        "source": {"repo": "hiyouga/LLaMA-Factory", "commit": commit_of(src), "file": "src/llamafactory/data/template.py"},
        "generated_by": "scripts/reference/llamafactory_templates.py",
        "templates": templates,
        "tool_prompts": tool_prompts,
    }
    json.dump(doc, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
