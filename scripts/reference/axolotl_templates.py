#!/usr/bin/env python3
"""Writes core/frameworks/axolotl/templates.json: Axolotl's named chat templates (`chat_template: chatml`, `llama3`,
`qwen_25`, `gemma3`, ...), which the product needs at run time to preview a config that names one.

Source: axolotl-ai-cloud/axolotl src/axolotl/utils/chat_templates/base.py reads every
src/axolotl/utils/chat_templates/templates/<name>.jinja into _CHAT_TEMPLATES[name]; this script imports that real
module from an extracted snapshot and dumps the dict as it is (no text is edited), with the snapshot's commit.

Env: any python3 (the module needs only the standard library).
Run:
  D=/work/.mirror/axolotl-ai-cloud+axolotl/repo
  mkdir -p /tmp/axolotl-src && git --git-dir=$D archive HEAD src | tar -x -C /tmp/axolotl-src
  python3 scripts/reference/axolotl_templates.py --src /tmp/axolotl-src/src \
      --commit $(git --git-dir=$D rev-parse HEAD)
"""
import argparse
import importlib.util
import json
import os
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "core", "frameworks", "axolotl", "templates.json")


def load_base(src: str) -> types.ModuleType:
    """Imports chat_templates/base.py alone; its one project import (axolotl.utils.logging) is replaced by the
    standard logging module, since logging.py pulls in axolotl.utils.distributed (accelerate, torch)."""
    stub = types.ModuleType("axolotl.utils.logging")
    import logging

    stub.get_logger = logging.getLogger
    sys.modules.setdefault("axolotl", types.ModuleType("axolotl"))
    sys.modules.setdefault("axolotl.utils", types.ModuleType("axolotl.utils"))
    sys.modules["axolotl.utils.logging"] = stub
    path = os.path.join(src, "axolotl", "utils", "chat_templates", "base.py")
    spec = importlib.util.spec_from_file_location("axolotl_chat_templates_base", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True, help="the extracted src/ folder of an axolotl snapshot")
    ap.add_argument("--commit", required=True, help="the snapshot's commit (recorded in the output)")
    args = ap.parse_args()
    base = load_base(args.src)
    out = {
        "source": f"axolotl-ai-cloud/axolotl@{args.commit} src/axolotl/utils/chat_templates/templates/*.jinja",
        "templates": dict(sorted(base._CHAT_TEMPLATES.items())),
    }
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"{len(out['templates'])} templates -> {os.path.relpath(OUT)}")


if __name__ == "__main__":
    main()
