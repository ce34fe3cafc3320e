"""Imports LLaMA-Factory's own data modules (template.py, formatter.py, converter.py, parser.py,
processor/supervised.py, hparams/data_args.py) from an extracted source tree, for the llamafactory_*.py scripts.

LLaMA-Factory is not pip-installable here; its source is a git snapshot. Extract it with
  git --git-dir=/work/.mirror/hiyouga+LLaMA-Factory/repo archive HEAD | tar -x -C /tmp/lf-src
and pass /tmp/lf-src (or set LLAMAFACTORY_SRC). Only two things are stubbed, neither used on text-only data:
  * the `torchaudio` module (mm_plugin.py imports it at top level; it is not installed): an empty module;
  * the `llamafactory.hparams` package __init__ (it imports model_args.py, which needs omegaconf, not installed):
    replaced by an empty package so that hparams/data_args.py itself is imported from its file, unchanged.
Everything else (llamafactory/__init__, data/__init__, extras/*, mm_plugin.py, tool_utils.py) is LLaMA-Factory's code.
"""
import importlib.machinery
import importlib.util
import os
import subprocess
import sys
import types


def load(src):
    root = os.path.join(src, "src")
    if not os.path.isfile(os.path.join(root, "llamafactory", "data", "template.py")):
        sys.exit(f"{src}: not an extracted LLaMA-Factory source tree (no src/llamafactory/data/template.py)")
    sys.path.insert(0, root)
    audio = types.ModuleType("torchaudio")
    audio.__spec__ = importlib.machinery.ModuleSpec("torchaudio", None)
    sys.modules.setdefault("torchaudio", audio)
    hparams = types.ModuleType("llamafactory.hparams")
    hparams.__path__ = [os.path.join(root, "llamafactory", "hparams")]
    hparams.__spec__ = importlib.machinery.ModuleSpec("llamafactory.hparams", None, is_package=True)
    sys.modules["llamafactory.hparams"] = hparams
    import llamafactory.data.template as template
    import llamafactory.data.formatter as formatter
    import llamafactory.data.converter as converter
    import llamafactory.data.parser as parser
    import llamafactory.data.processor.supervised as supervised
    import llamafactory.hparams.data_args as data_args
    return types.SimpleNamespace(template=template, formatter=formatter, converter=converter, parser=parser,
                                 supervised=supervised, data_args=data_args)


def commit_of(src):
    """The snapshot's commit: from LLAMAFACTORY_COMMIT, else the mirror's git dir, else 'unknown'."""
    if os.environ.get("LLAMAFACTORY_COMMIT"):
        return os.environ["LLAMAFACTORY_COMMIT"]
    git_dir = os.environ.get("LLAMAFACTORY_GIT", "/work/.mirror/hiyouga+LLaMA-Factory/repo")
    try:
        return subprocess.run(["git", "--git-dir", git_dir, "rev-parse", "HEAD"], check=True, capture_output=True,
                              text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
