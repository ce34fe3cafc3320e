#!/usr/bin/env python3
"""Expected chat-template renders and assistant spans, as transformers' apply_chat_template computes them.

Writes test/fixtures/chat-templates/expected.json from templates.json x conversations.json (same folder).

No machine with transformers is available to this project, so this script rebuilds transformers' Jinja
environment on plain jinja2 (Debian's python3-jinja2), following src/transformers/utils/chat_template_utils.py:
  * ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
    extensions=[AssistantTracker, jinja2.ext.loopcontrols])
  * filters["tojson"] = json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False) with
    those keyword arguments exposed
  * globals raise_exception (jinja2.exceptions.TemplateError) and strftime_now(format)
  * AssistantTracker: the `generation` block tag becomes a CallBlock whose body is rendered; the span recorded is
    (len("".join(rendered_blocks so far)), + len(body)), with rendered_blocks the chunks template.generate() has
    yielded so far (_render_with_assistant_indices).
  * render kwargs: messages, tools, documents, add_generation_prompt, and the tokenizer's special tokens.
Weaker than running transformers itself: (1) transformers' own code is not executed (a change in a newer
transformers release would not show); (2) no tokenizer runs here, so token-level masks (char_to_token over the
Rust tokenizer's offsets) are not produced — tests map these character spans to tokens with our tokenizer;
(3) strftime_now is pinned to the corpus' "now" (transformers uses the current time) so renders are stable.

Per-turn spans for templates without generation blocks (mask way (b)) are computed here with the same documented
rule as core/hf/masks.ts, on jinja2's renders: for assistant message i, the turn runs from the end of
render(messages[:i], add_generation_prompt=True) to the end of render(messages[:i+1]) when both are prefixes of the
full render; otherwise the message content is searched for after the previous turn ("content").

Run: python3 scripts/reference/hf_chat_template_ref.py           (rewrites expected.json)
     python3 scripts/reference/hf_chat_template_ref.py --check   (live comparison: exit 1 when jinja2 here renders
                                                                   differently from the committed fixtures)
"""
import json
import os
import sys
from datetime import datetime

import jinja2
import jinja2.ext
from jinja2 import nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "..", "test", "fixtures", "chat-templates")


class AssistantTracker(jinja2.ext.Extension):
    """transformers' AssistantTracker: records where each {% generation %} block lands in the output."""

    tags = {"generation"}

    def __init__(self, environment):
        super().__init__(environment)
        environment.extend(tracker=self)
        self.rendered_blocks = None
        self.generation_indices = None

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_generation_support"), [], [], body).set_lineno(lineno)

    @jinja2.pass_eval_context
    def _generation_support(self, context, caller):
        rv = caller()
        if self.rendered_blocks is not None:
            start = len("".join(self.rendered_blocks))
            self.generation_indices.append((start, start + len(rv)))
        return rv


def make_env(now):
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format):
        return now.strftime(format)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[AssistantTracker, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def render(env, template, messages, tools, add_generation_prompt, variables):
    """_render_with_assistant_indices: (text, generation spans) or raises."""
    compiled = env.from_string(template)
    tracker = env.tracker
    blocks, spans = [], []
    tracker.rendered_blocks, tracker.generation_indices = blocks, spans
    try:
        for block in compiled.generate(messages=messages, tools=tools, documents=None,
                                       add_generation_prompt=add_generation_prompt, **variables):
            blocks.append(block)
    finally:
        tracker.rendered_blocks, tracker.generation_indices = None, None
    return "".join(blocks), [list(s) for s in spans]


def turn_spans(env, template, messages, tools, variables, full):
    """Mask way (b): per assistant turn, by rendering prefixes (see module docstring)."""
    out = []
    searched_from = 0
    for i, m in enumerate(messages):
        if m["role"] != "assistant":
            continue
        try:
            before = render(env, template, messages[:i], tools, True, variables)[0] if i > 0 else ""
            upto = render(env, template, messages[: i + 1], tools, False, variables)[0]
        except Exception:
            before, upto = None, None
        if before is not None and full.startswith(before) and full.startswith(upto) and len(upto) > len(before):
            out.append({"message": i, "start": len(before), "end": len(upto), "way": "prefix"})
            searched_from = len(upto)
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


def main():
    corpus = json.load(open(os.path.join(FIX, "conversations.json"), encoding="utf-8"))
    templates = json.load(open(os.path.join(FIX, "templates.json"), encoding="utf-8"))["templates"]
    now = datetime.fromisoformat(corpus["now"])
    env = make_env(now)
    cases = []
    for tname, tinfo in templates.items():
        template = open(os.path.join(FIX, tinfo.get("file", tname) + ".jinja"), encoding="utf-8").read()
        for cname, messages in corpus["conversations"].items():
            tools = corpus["tools"] if cname in corpus["toolConversations"] else None
            for agp in (False, True):
                case = {"template": tname, "conversation": cname, "addGenerationPrompt": agp}
                try:
                    text, spans = render(env, template, messages, tools, agp, tinfo["vars"])
                    case["text"] = text
                    case["generationSpans"] = spans
                    if not agp:
                        case["turnSpans"] = turn_spans(env, template, messages, tools, tinfo["vars"], text)
                except jinja2.exceptions.TemplateError as e:
                    case["error"] = str(e)
                cases.append(case)
    out = {
        "generatedBy": "scripts/reference/hf_chat_template_ref.py",
        "jinja2": jinja2.__version__,
        "python": sys.version.split()[0],
        "cases": cases,
    }
    path = os.path.join(FIX, "expected.json")
    if "--check" in sys.argv[1:]:
        committed = {(c["template"], c["conversation"], c["addGenerationPrompt"]): c for c in json.load(open(path, encoding="utf-8"))["cases"]}
        differ = [c for c in cases if committed.get((c["template"], c["conversation"], c["addGenerationPrompt"])) != c]
        for c in differ:
            print(f"differs: {c['template']} x {c['conversation']} (add_generation_prompt={c['addGenerationPrompt']})")
        print(f"{len(cases) - len(differ)}/{len(cases)} cases equal the committed fixtures (jinja2 {jinja2.__version__})")
        sys.exit(1 if differ or len(committed) != len(cases) else 0)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {os.path.relpath(path)}")


if __name__ == "__main__":
    main()
