#!/usr/bin/env python3
"""
Extracts one plain-language line per parameter from torchtune's own docstrings (the `Args:` sections of the
builders and classes the component catalog names) and writes scripts/reference/torchtune-param-docs.json, which
scripts/generate-catalog.ts merges into core/config/catalog.json.

    git clone https://github.com/meta-pytorch/torchtune /tmp/torchtune   (or any git dir holding commit bd2a0fc)
    python3 scripts/reference/torchtune_param_docs.py --git-dir /tmp/torchtune/.git

Reads the source with `git show COMMIT:path` (nothing is imported or executed) and parses it with `ast`.
"""
import argparse
import ast
import json
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CATALOG_SOURCE = ROOT.parent / "shared" / "reference" / "torchtune-components.json"
OUT = ROOT / "scripts" / "reference" / "torchtune-param-docs.json"
DEFAULT_COMMIT = "bd2a0fc7c31430972728494fa01aaeeb0ebf1ba1"

SECTION = re.compile(r"^(Args|Arguments|Parameters|Keyword Args|Kwargs|Returns|Raises|Example|Examples|Note|Notes|Yields|Attributes|Warning)\s*:\s*$")
ARG_LINE = re.compile(r"^(\*{0,2}[A-Za-z_][A-Za-z0-9_]*)\s*(\([^)]*(\([^)]*\)[^)]*)*\))?\s*:\s*(.*)$")


def rst_to_markdown(s: str) -> str:
    """Sphinx roles and literals as Markdown: :class:`~a.b.C` -> `C`, ``x`` -> `x`, `text <url>`_ -> text."""
    s = re.sub(r":[a-z]+:`~?([^`<]+?)(\s*<[^>]*>)?`", lambda m: "`" + (m.group(1).split(".")[-1] if m.group(0).find("~") >= 0 else m.group(1)) + "`", s)
    s = re.sub(r"`([^`<]+?)\s*<[^>]+>`_+", r"\1", s)
    s = re.sub(r"``([^`]+)``", r"`\1`", s)
    return re.sub(r"\s+", " ", s).strip()


def first_sentence(s: str) -> str:
    """The first sentence, without the trailing 'Default is X.' that the hover states separately."""
    s = re.sub(r"\s*\(?\b[Dd]efault(s)?( is| to|:|s to)?\s+[^.]*(\.\d+[^.]*)*\.?\)?\s*$", "", s).strip()
    m = re.search(r"(?<![.\s][a-z])(?<!e\.g)(?<!i\.e)\.\s+(?=[A-Z(`])", s)
    out = s[: m.start() + 1] if m else s
    # `name: (type): text` is a common slip in torchtune's docstrings; a dangling comma before the cut, too.
    out = re.sub(r"^\([^)]*\)\s*:\s*", "", out.strip())
    out = re.sub(r"[,;:]\.?$", "", out)
    if out and out[0].islower():
        out = out[0].upper() + out[1:]
    if out and not out.endswith((".", ":", "?", "!")):
        out += "."
    return out


def parse_args_section(doc: str) -> dict:
    """{param: one line} from a Google-style docstring's Args: section."""
    lines = doc.expandtabs().splitlines()
    out: dict = {}
    in_args = False
    base = None
    current = None
    buf: list = []

    def flush():
        if current is not None and buf:
            out[current] = first_sentence(rst_to_markdown(" ".join(buf)))

    for raw in lines:
        stripped = raw.strip()
        if SECTION.match(stripped):
            flush()
            current, buf = None, []
            in_args = stripped.split(":")[0] in ("Args", "Arguments", "Parameters", "Keyword Args", "Kwargs")
            base = None
            continue
        if not in_args:
            continue
        if not stripped:
            continue
        indent = len(raw) - len(raw.lstrip())
        if base is None:
            base = indent
        if indent < base:
            flush()
            current, buf, in_args = None, [], False
            continue
        m = ARG_LINE.match(stripped) if indent == base else None
        if m:
            flush()
            current = m.group(1).lstrip("*")
            buf = [m.group(4)]
        elif current is not None:
            buf.append(stripped)
    flush()
    return {k: v for k, v in out.items() if v and v != "."}


def git_show(git_dir: str, commit: str, path: str) -> str | None:
    r = subprocess.run(["git", "--git-dir", git_dir, "show", f"{commit}:{path}"], capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else None


def docs_at(tree: ast.Module, line: int, name: str) -> tuple[str | None, dict]:
    """Summary line and Args of the def/class starting at `line` (or named `name`); classes fall back to __init__."""
    target = None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            starts = [node.lineno] + [d.lineno for d in node.decorator_list]
            if line in starts or (target is None and node.name == name):
                target = node
                if line in starts:
                    break
    if target is None:
        return None, {}
    doc = ast.get_docstring(target) or ""
    params = parse_args_section(doc)
    if isinstance(target, ast.ClassDef):
        for item in target.body:
            if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                params = {**parse_args_section(ast.get_docstring(item) or ""), **params}
    summary = None
    head = doc.strip().split("\n\n")[0] if doc.strip() else ""
    if head and not SECTION.match(head.splitlines()[0].strip()):
        summary = first_sentence(rst_to_markdown(head))
    return summary, params


FEATURE = re.compile(r"^-\s+([A-Z][^.]*)\.\s+(.*)$")


def recipe_key_docs(tree: ast.Module, keys: set) -> dict:
    """{key: 'Feature: sentence'} from the `Features:` bullets of a recipe class docstring that name ``key``."""
    out: dict = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        doc = ast.get_docstring(node) or ""
        bullets, cur = [], None
        for line in doc.splitlines():
            m = FEATURE.match(line.strip())
            if m:
                cur = [m.group(1), m.group(2)]
                bullets.append(cur)
            elif cur is not None and line.strip() and not SECTION.match(line.strip()):
                cur[1] += " " + line.strip()
            elif SECTION.match(line.strip()):
                cur = None
        for title, body in bullets:
            sentences = re.split(r"(?<=[.])\s+(?=[A-Z])", rst_to_markdown(body))
            for k in set(re.findall(r"``([a-z_]+)(?:=[^`]*)?``", body)) & keys:
                line = describing_sentence(sentences, k)
                if line:
                    out.setdefault(k, f"{title}: {line}")
    return out


def describing_sentence(sentences: list, key: str) -> str | None:
    """The sentence naming `key`, unless it only says which flag controls the feature: then its neighbour."""
    mechanical = re.compile(r"controlled (using|by)|supported using|flag\.|is set to")
    at = next((i for i, x in enumerate(sentences) if f"`{key}" in x), None)
    if at is None:
        return None
    for i in (at, at - 1, at + 1, at + 2):
        if 0 <= i < len(sentences) and not mechanical.search(sentences[i]):
            return sentences[i].strip()
    return None


def config_comments(git_dir: str, commit: str) -> dict:
    """The inline comment torchtune's own configs most often put on a top-level key (`compile: False  # …`)."""
    r = subprocess.run(["git", "--git-dir", git_dir, "grep", "-h", "-E", r"^[a-z_]+: [^#]*#", commit, "--", "recipes/configs"], capture_output=True, text=True)
    counts: dict = {}
    for line in r.stdout.splitlines():
        m = re.match(r"^[^:]*:([a-z_]+):[^#]*#\s*(.+)$", line) or re.match(r"^([a-z_]+):[^#]*#\s*(.+)$", line)
        if m:
            counts.setdefault(m.group(1), {}).setdefault(m.group(2).strip(), 0)
            counts[m.group(1)][m.group(2).strip()] += 1
    out = {}
    for key, by_text in counts.items():
        text, n = max(by_text.items(), key=lambda kv: kv[1])
        # Only the comments torchtune repeats across its configs (not one eval config's remark).
        if n >= 20:
            out[key] = text if text.endswith(".") else text + "."
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--git-dir", required=True, help="a torchtune git dir (clone or mirror)")
    ap.add_argument("--commit", default=DEFAULT_COMMIT)
    a = ap.parse_args()
    catalog = json.loads(CATALOG_SOURCE.read_text())
    trees: dict = {}
    components: dict = {}
    for name, c in sorted(catalog["components"].items()):
        m = re.match(r"^(torchtune/[^\s:]+\.py):(\d+)$", c.get("source", ""))
        if not m:
            continue
        path, line = m.group(1), int(m.group(2))
        if path not in trees:
            text = git_show(a.git_dir, a.commit, path)
            trees[path] = ast.parse(text) if text is not None else None
        tree = trees[path]
        if tree is None:
            continue
        summary, params = docs_at(tree, line, name.split(".")[-1])
        params = {p: d for p, d in params.items() if p in c["params"]}
        if summary or params:
            components[name] = {k: v for k, v in (("summary", summary), ("params", params)) if v}
    comments = config_comments(a.git_dir, a.commit)
    recipes: dict = {}
    for name, detail in sorted(catalog["recipes"].items()):
        keys = set(detail["keys"])
        text = git_show(a.git_dir, a.commit, catalog["recipe_registry"][name]["file"])
        lines = recipe_key_docs(ast.parse(text), keys) if text else {}
        for k, c in comments.items():
            if k in keys:
                lines.setdefault(k, c)
        if lines:
            recipes[name] = lines
    OUT.write_text(json.dumps({"torchtune_commit": a.commit, "components": components, "recipes": recipes}, indent=1, sort_keys=True) + "\n")
    n = sum(len(v.get("params", {})) for v in components.values())
    r = sum(len(v) for v in recipes.values())
    print(f"{OUT.relative_to(ROOT)}: {len(components)} components, {n} parameter lines; {r} recipe key lines")


if __name__ == "__main__":
    main()
