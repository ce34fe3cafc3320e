"""Generate golden tokenization outputs with REAL torchtune 0.7.0 code (test/fixtures/torchtune-extended/).

    python3 scripts/reference/torchtune_golden.py --make-cases bench/out/torchtune-cases.json
    PYTHONPATH=<torchtune checkout> python3 scripts/reference/torchtune_golden.py \
        --cases bench/out/torchtune-cases.json --root <folder holding shared/> --out <dir>

The case list is generated (make_cases below; its copy ships with the fixtures as cases.json.gz). Per case and sample: the dataset builder's message transform (ShareGPTToMessages /
OpenAIToMessages / AlpacaToMessages / InputOutputToMessages, constructed exactly as chat_dataset / alpaca_dataset /
instruct_dataset do) → torchtune.datasets._sft.SFTTransform (validate_messages → the model tokenizer's __call__ →
labels), i.e. SFTDataset.__getitem__ without the Hugging Face `datasets` loader (samples are read with `json`, like
the shared golden files). Tokenizers come from the real builder functions (llama3_tokenizer, …), whose source is
lifted out of torchtune/models/*/_model_builders.py so the model-building imports there are not needed.

Harness shims only (no behaviour change of what is measured): package __init__ files of torchtune that import
model code are skipped, third-party modules that the tokenization path never calls (torchvision, datasets,
torchdata, torchao, …) are stubbed when missing, and when `tiktoken` is not installed the pure-Python stand-in
in scripts/reference/shims/tiktoken is used.

Hostile cases (test/fixtures/torchtune-hostile/: lone surrogates, long turns cut by max_seq_len, the Chinese
OpenAI samples of issue 10 at max_seq_len 96):

    python3 scripts/reference/torchtune_golden.py --make-hostile-cases bench/out/hostile-cases.json
    PYTHONPATH=<torchtune checkout> python3 scripts/reference/torchtune_golden.py --stub-torch \
        --cases bench/out/hostile-cases.json --root <folder holding shared/> --out <dir> --only qwen2,qwen2_5,...
    python3 scripts/reference/torchtune_golden.py --pack-hostile <dir> test/fixtures/torchtune-hostile

`--stub-torch` runs without PyTorch: torchtune's data and tokenizer modules import torch at module level but the
tokenization path (message transforms, validate_messages, tokenize_messages, truncate, np.where labels) never calls
it, so `torch`/`torchvision`/`torchao`/`torchdata`/`PIL` become inert placeholder modules. Checked: with it, the 484
non-SentencePiece cases of test/fixtures/torchtune-extended (recorded with real torch 2.11) come out identical.
SentencePiece families need the real `sentencepiece` package; their hostile cases are left for a machine with it
(env.json lists what ran). Data paths starting with `repo:` are relative to this repository.

Output: <out>/<case>.jsonl with {"i","tokens","mask","labels"} or {"i","error": "<Type>: <message>"} per sample,
<out>/cases.json (the case list as run) and <out>/env.json (versions). Then
`python3 scripts/reference/torchtune_golden.py --pack <out> test/fixtures/torchtune-extended` packs them as the
committed fixtures (gzipped JSONL per tokenizer + cases.json.gz, to keep the repository small).
"""
import argparse
import ast
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


class _Inert:
    """A stand-in for any torch object at import time: attributes and calls give more stand-ins, it is falsy, it
    compares false, it can be a base class, and used as a decorator it returns the function unchanged."""

    def __init__(self, *a, **k):
        pass

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Inert()

    def __call__(self, *a, **k):
        if len(a) == 1 and callable(a[0]) and not k:
            return a[0]
        return _Inert()

    def __bool__(self):
        return False

    def __lt__(self, other):
        return False

    __le__ = __gt__ = __ge__ = __lt__

    def __iter__(self):
        return iter(())

    def __getitem__(self, key):
        return _Inert()

    def __or__(self, other):
        return _Inert()

    __ror__ = __or__

    def __mro_entries__(self, bases):
        return (object,)


class _InertModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Inert()


def stub_torch():
    """Make torch and its satellites importable as inert modules (see --stub-torch in the docstring)."""
    roots = ("torch", "torchvision", "torchao", "torchdata", "PIL")

    class Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        def find_spec(self, name, path, target=None):
            if name.split(".")[0] in roots:
                return importlib.machinery.ModuleSpec(name, self, is_package=True)
            return None

        def create_module(self, spec):
            m = _InertModule(spec.name)
            m.__path__ = []
            return m

        def exec_module(self, module):
            pass

    sys.meta_path.insert(0, Finder())


class _Stub(types.ModuleType):
    """A module whose every attribute is a dummy class: import-time placeholders for unused dependencies."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return type(name, (), {"__init__": lambda self, *a, **k: None})


def _stub_missing(names):
    stubbed = []
    for n in names:
        try:
            importlib.import_module(n)
        except Exception:
            parts = n.split(".")
            for k in range(1, len(parts) + 1):
                sub = ".".join(parts[:k])
                if sub not in sys.modules or not isinstance(sys.modules[sub], _Stub) and k == len(parts):
                    m = _Stub(sub)
                    m.__path__ = []
                    m.__spec__ = importlib.machinery.ModuleSpec(sub, None, is_package=True)
                    sys.modules[sub] = m
                    if k > 1:
                        setattr(sys.modules[".".join(parts[: k - 1])], parts[k - 1], m)
            stubbed.append(n)
    return stubbed


def _tt_root():
    for p in sys.path:
        if os.path.isfile(os.path.join(p or ".", "torchtune", "data", "_messages.py")):
            return os.path.join(p or ".", "torchtune")
    raise SystemExit("torchtune sources not on PYTHONPATH")


def _bare_package(name, path):
    """Register a package without running its __init__ (which imports model code)."""
    m = types.ModuleType(name)
    m.__path__ = [path]
    sys.modules[name] = m
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, m)
    return m


def setup_imports():
    env = {"python": sys.version.split()[0]}
    try:
        import tiktoken  # noqa: F401

        env["tiktoken"] = getattr(tiktoken, "__version__", "?")
    except ImportError:
        sys.path.append(os.path.join(HERE, "shims"))
        import tiktoken  # noqa: F401

        env["tiktoken"] = "shim (scripts/reference/shims/tiktoken)"
    for mod in ("torch", "numpy", "regex", "sentencepiece"):
        try:
            env[mod] = getattr(importlib.import_module(mod), "__version__", "?")
        except Exception as e:  # noqa: BLE001
            env[mod] = f"missing ({type(e).__name__})"
    env["stubbed"] = _stub_missing(
        ["sentencepiece", "omegaconf", "torchvision", "datasets", "datasets.distributed", "tokenizers", "jinja2", "PIL", "PIL.Image"]
    )
    root = _tt_root()
    _bare_package("torchtune", root)
    for sub in ("models", "modules", "datasets", "config"):
        _bare_package(f"torchtune.{sub}", os.path.join(root, sub))
    for fam in ("llama3", "llama2", "mistral", "gemma", "phi3", "qwen2", "qwen2_5", "qwen3", "phi4"):
        _bare_package(f"torchtune.models.{fam}", os.path.join(root, "models", fam))
    try:
        importlib.import_module("torchtune.utils")
    except Exception:  # torch too old for torchtune.utils._device: only the logger is needed on this path
        u = _bare_package("torchtune.utils", os.path.join(root, "utils"))
        lg = importlib.import_module("torchtune.utils._logging")
        u.get_logger, u.log_once, u.deprecated, u.log_rank_zero = lg.get_logger, lg.log_once, lg.deprecated, lg.log_rank_zero
        u.get_world_size_and_rank = lambda: (1, 0)
        env["utils"] = "bare (logger only)"
    # Prompt template dotpaths resolve through the (bare) model packages.
    sys.modules["torchtune.models.llama2"].Llama2ChatTemplate = importlib.import_module(
        "torchtune.models.llama2._prompt_template"
    ).Llama2ChatTemplate
    sys.modules["torchtune.models.mistral"].MistralChatTemplate = importlib.import_module(
        "torchtune.models.mistral._prompt_template"
    ).MistralChatTemplate
    return env


def builder(module, func):
    """The real builder function's source from torchtune/models/<fam>/_model_builders.py, with that module's
    imports that succeed (model-code imports are skipped; the tokenizer builders do not use them)."""
    path = os.path.join(_tt_root(), "models", module, "_model_builders.py")
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    ns = {"__name__": f"torchtune.models.{module}._model_builders_tok"}
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                one = ast.Module(body=[type(node)(**{**node.__dict__, "names": [alias]})], type_ignores=[])
                try:
                    exec(compile(ast.fix_missing_locations(one), path, "exec"), ns)
                except Exception:
                    pass
        elif isinstance(node, ast.Assign):
            try:
                exec(compile(ast.Module(body=[node], type_ignores=[]), path, "exec"), ns)
            except Exception:
                pass
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == func)
    exec(compile(ast.Module(body=[fn], type_ignores=[]), path, "exec"), ns)
    return ns[func]


BUILDERS = {
    "torchtune.models.llama3.llama3_tokenizer": ("llama3", "llama3_tokenizer"),
    "torchtune.models.llama2.llama2_tokenizer": ("llama2", "llama2_tokenizer"),
    "torchtune.models.mistral.mistral_tokenizer": ("mistral", "mistral_tokenizer"),
    "torchtune.models.gemma.gemma_tokenizer": ("gemma", "gemma_tokenizer"),
    "torchtune.models.phi3.phi3_mini_tokenizer": ("phi3", "phi3_mini_tokenizer"),
    "torchtune.models.qwen2.qwen2_tokenizer": ("qwen2", "qwen2_tokenizer"),
    "torchtune.models.qwen2_5.qwen2_5_tokenizer": ("qwen2_5", "qwen2_5_tokenizer"),
    "torchtune.models.qwen3.qwen3_tokenizer": ("qwen3", "qwen3_tokenizer"),
    "torchtune.models.phi4.phi4_tokenizer": ("phi4", "phi4_tokenizer"),
}

SPM_FAMILIES = {"llama2", "mistral", "gemma", "phi3"}

PATH_KEYS = ("path", "merges_file", "special_tokens_path", "vocab_path", "merges_path")


def make_tokenizer(component, root, inputs):
    kw = {k: v for k, v in component.items() if k != "_component_"}
    for k in PATH_KEYS:
        if k in kw and kw[k] is not None:
            rel = kw[k]
            local = os.path.join(inputs, rel) if inputs else None
            kw[k] = local if local and os.path.exists(local) else os.path.join(root, rel)
    return builder(*BUILDERS[component["_component_"]])(**kw)


def message_transform(case):
    from torchtune.data._messages import AlpacaToMessages, InputOutputToMessages, OpenAIToMessages, ShareGPTToMessages

    kind = case.get("kind", "chat")
    if kind == "alpaca":
        return AlpacaToMessages(train_on_input=case["train_on_input"], column_map=case.get("column_map"))
    if kind == "instruct":
        return InputOutputToMessages(
            train_on_input=case["train_on_input"], column_map=case.get("column_map"), new_system_prompt=case["new_system_prompt"]
        )
    if case["style"] == "sharegpt":
        return ShareGPTToMessages(
            train_on_input=case["train_on_input"], column_map={"conversations": case["column"]}, new_system_prompt=case["new_system_prompt"]
        )
    return OpenAIToMessages(
        train_on_input=case["train_on_input"], column_map={"messages": case["column"]}, new_system_prompt=case["new_system_prompt"]
    )


def read_samples(path):
    with open(path, encoding="utf-8") as f:
        if path.endswith(".jsonl"):
            return [json.loads(l) for l in f if l.strip()]
        return json.load(f)


def run_case(case, root, inputs):
    from torchtune.datasets._sft import SFTTransform

    comp = dict(case["tokenizer_component"])
    if case.get("max_seq_len") is not None:
        comp["max_seq_len"] = case["max_seq_len"]
    try:
        tok = make_tokenizer(comp, root, inputs)
    except Exception as e:  # noqa: BLE001
        return [{"i": -1, "error": f"{type(e).__name__}: {e}"}]
    data = case["data"]
    local = os.path.join(inputs, data) if inputs else None
    if data.startswith("repo:"):
        samples = read_samples(os.path.join(REPO, data[len("repo:"):]))
    else:
        samples = read_samples(local if local and os.path.exists(local) else os.path.join(root, data))
    idx = case.get("samples")
    if idx is None:
        idx = list(range(len(samples) if case.get("limit") is None else min(case["limit"], len(samples))))
    prep = SFTTransform(message_transform=message_transform(case), model_transform=tok)
    out = []
    for i in idx:
        try:
            d = prep(samples[i])
            out.append(
                {"i": i, "tokens": [int(t) for t in d["tokens"]], "mask": [bool(m) for m in d["mask"]], "labels": [int(x) for x in d["labels"]]}
            )
        except Exception as e:  # noqa: BLE001
            out.append({"i": i, "error": f"{type(e).__name__}: {e}"})
    return out


def pack(out_dir, fixtures_dir):
    """<out>/<case>.jsonl files → <fixtures>/<tokenizer>.jsonl.gz ({"case", ...line} per line) + cases.json + env.json."""
    import gzip

    cases = json.load(open(os.path.join(out_dir, "cases.json"), encoding="utf-8"))
    os.makedirs(fixtures_dir, exist_ok=True)
    by_tok = {}
    for c in cases:
        with open(os.path.join(out_dir, c["name"] + ".jsonl"), encoding="utf-8") as f:
            for l in f:
                if l.strip():
                    by_tok.setdefault(c["tokenizer"], []).append({"case": c["name"], **json.loads(l)})
    for tok, lines in by_tok.items():
        body = "".join(json.dumps(l, ensure_ascii=False, separators=(",", ":")) + "\n" for l in lines)
        with gzip.GzipFile(os.path.join(fixtures_dir, tok + ".jsonl.gz"), "wb", mtime=0) as g:
            g.write(body.encode("utf-8"))
    # One case per line, gzipped too: thousands of sweep cases would otherwise dominate the fixtures' size.
    body = "[\n" + ",\n".join(json.dumps(c, ensure_ascii=False, separators=(",", ":")) for c in cases) + "\n]\n"
    with gzip.GzipFile(os.path.join(fixtures_dir, "cases.json.gz"), "wb", mtime=0) as g:
        g.write(body.encode("utf-8"))
    if os.path.exists(os.path.join(fixtures_dir, "cases.json")):
        os.remove(os.path.join(fixtures_dir, "cases.json"))
    env = json.load(open(os.path.join(out_dir, "env.json"), encoding="utf-8"))
    json.dump(env, open(os.path.join(fixtures_dir, "env.json"), "w", encoding="utf-8"), indent=1)


def make_cases():
    """The case matrix written to torchtune-cases.json (`--make-cases <file>`)."""
    A = "shared/assets/torchtune/"
    bpe = {"path": A + "tiny_bpe_vocab.json", "merges_file": A + "tiny_bpe_merges.txt"}
    T = {
        "llama3": {"_component_": "torchtune.models.llama3.llama3_tokenizer", "path": "shared/assets/llama3/tokenizer.model"},
        "llama3_small": {"_component_": "torchtune.models.llama3.llama3_tokenizer", "path": A + "tiktoken_small.model"},
        "llama2": {"_component_": "torchtune.models.llama2.llama2_tokenizer", "path": A + "m.model"},
        "mistral": {"_component_": "torchtune.models.mistral.mistral_tokenizer", "path": A + "m.model"},
        "gemma": {"_component_": "torchtune.models.gemma.gemma_tokenizer", "path": A + "m.model"},
        "phi3": {"_component_": "torchtune.models.phi3.phi3_mini_tokenizer", "path": A + "m.model"},
        "qwen2": {"_component_": "torchtune.models.qwen2.qwen2_tokenizer", **bpe, "special_tokens_path": A + "tiny_bpe_tokenizer.json"},
    }
    T2 = {
        "qwen2_5": {"_component_": "torchtune.models.qwen2_5.qwen2_5_tokenizer", **bpe},
        "qwen3": {"_component_": "torchtune.models.qwen3.qwen3_tokenizer", **bpe},
        "phi4": {"_component_": "torchtune.models.phi4.phi4_tokenizer", "vocab_path": bpe["path"], "merges_path": bpe["merges_file"]},
        "qwen2_default": {"_component_": "torchtune.models.qwen2.qwen2_tokenizer", **bpe},
    }
    LF = "shared/corpus/llamafactory/"
    D = {
        "glaive": dict(data="shared/corpus/chat/glaive_sharegpt.json", kind="chat", style="sharegpt", column="dialogue", samples=[0, 1, 2, 3]),
        "edge": dict(data="shared/corpus/chat/edge_sharegpt.jsonl", kind="chat", style="sharegpt", column="conversations", samples=None),
        "openai": dict(data="shared/corpus/chat/mixed_openai.jsonl", kind="chat", style="openai", column="messages", samples=[0, 1, 6, 7, 20]),
        "bad": dict(data="shared/corpus/chat/bad_sharegpt.jsonl", kind="chat", style="sharegpt", column="conversations", samples=None),
        "alpaca": dict(data=LF + "identity.json", kind="alpaca", style=None, column="", samples=[0, 2, 5, 9]),
        "instruct": dict(data=LF + "identity.json", kind="instruct", style=None, column="", column_map={"input": "instruction", "output": "output"}, samples=[0, 2, 5]),
    }
    D2 = {
        "glaivemore": dict(data="shared/corpus/chat/glaive_sharegpt.json", kind="chat", style="sharegpt", column="dialogue", samples=[7, 19, 33, 58]),
        "toolcall": dict(data=LF + "glaive_toolcall_en_demo.json", kind="chat", style="sharegpt", column="conversations", samples=[0, 1, 2]),
        "v1sft": dict(data=LF + "v1_sft_demo.jsonl", kind="chat", style="openai", column="messages", samples=[0, 1]),
        "mllm": dict(data=LF + "mllm_demo.json", kind="chat", style="openai", column="messages", samples=[0, 1, 2]),
        "dpo": dict(data=LF + "dpo_en_demo.json", kind="chat", style="sharegpt", column="conversations", samples=[0, 1]),
        "alpacaen": dict(data=LF + "alpaca_en_demo.json", kind="alpaca", style=None, column="", samples=[0, 3, 7, 11]),
        "chattiny": dict(data=A + "chat_tiny.json", kind="chat", style="sharegpt", column="conversations", samples=None),
        "alpacatiny": dict(data=A + "alpaca_tiny.json", kind="alpaca", style=None, column="", samples=[0, 1, 2]),
        "instructtiny": dict(data=A + "instruct_tiny.json", kind="instruct", style=None, column="", column_map={"input": "instruction", "output": "response"}, samples=None),
        "glaive4": dict(data="shared/corpus/chat/glaive_first4.json", kind="chat", style="sharegpt", column="dialogue", samples=None),
    }
    Dall = {**D, **D2}
    Tall = {**T, **T2}
    PIRATE = "You are a pirate."
    COMBOS = [(False, None, None), (True, PIRATE, None), (False, PIRATE, 7), (True, None, 32), (False, None, 100),
              (True, PIRATE, 100), (False, PIRATE, 32), (True, None, 7)]
    cases = []

    def add(tok, dname, toi, sys_, msl, comp_extra=None, tag=""):
        d = Dall[dname]
        if d["kind"] == "alpaca":
            sys_ = None
        sys_tag = "nosys" if sys_ is None else ("sys" if sys_ == PIRATE else "sys" + str(len(sys_)))
        name = f"{tok}_{dname}_{'toi' if toi else 'mask'}_{sys_tag}_{msl if msl is not None else 'full'}{tag}"
        if any(c["name"] == name for c in cases):
            return
        c = {"name": name, "tokenizer": tok, "data": d["data"], "kind": d["kind"], "style": d["style"], "column": d["column"],
             "train_on_input": toi, "new_system_prompt": sys_, "max_seq_len": msl, "limit": None, "samples": d["samples"],
             "tokenizer_component": {**Tall[tok], **(comp_extra or {})}}
        if "column_map" in d:
            c["column_map"] = d["column_map"]
        cases.append(c)

    for tok in T:
        for dname in D:
            combos = COMBOS if dname in ("glaive", "edge", "openai") else COMBOS[:4]
            for toi, s, msl in combos:
                add(tok, dname, toi, s, msl)
        for msl in (1, 2, 3):
            add(tok, "glaive", False, None, msl)
    for tok in ("llama3_small", "phi3", "qwen2", "gemma"):
        for dname, msl in (("glaive", 7), ("glaive", 32), ("edge", 32), ("openai", 32)):
            add(tok, dname, False, PIRATE, msl, {"truncation_type": "left"}, "_left")
            add(tok, dname, True, None, msl, {"truncation_type": "left"}, "_left")
    TPL = {"l2chat": "torchtune.models.llama2.Llama2ChatTemplate", "chatml": "torchtune.data.ChatMLTemplate",
           "mistralchat": "torchtune.models.mistral.MistralChatTemplate",
           "custom": {"system": ["<<SYS>>", "<</SYS>>\n"], "user": ["Q: ", "\nA:"], "assistant": ["", ""]}}
    for tok, tpls in (("llama3_small", TPL), ("phi3", TPL), ("gemma", {"chatml": TPL["chatml"], "custom": TPL["custom"]}),
                      ("llama2", {"none": None, "chatml": TPL["chatml"]}), ("mistral", {"none": None, "l2chat": TPL["l2chat"]}),
                      ("qwen2", {"l2chat": TPL["l2chat"], "custom": TPL["custom"], "chatml": TPL["chatml"]})):
        for tn, tv in tpls.items():
            for dname, toi, s, msl in (("glaive", False, PIRATE, None), ("edge", True, None, None), ("edge", False, PIRATE, 32), ("openai", False, None, 100)):
                add(tok, dname, toi, s, msl, {"prompt_template": tv}, f"_tpl-{tn}")
    # Round 2: more tokenizers, more data files, edge system prompts, boundary lengths, left truncation everywhere.
    for tok in T2:
        for dname in ("glaive", "edge", "openai", "bad", "alpaca", "instruct"):
            for toi, s, msl in COMBOS[:4]:
                add(tok, dname, toi, s, msl)
        for msl in (1, 2, 3, 5):
            add(tok, "glaive", False, None, msl)
            add(tok, "edge", True, PIRATE, msl, {"truncation_type": "left"}, "_left")
        for tn in ("l2chat", "custom", "chatml"):
            add(tok, "edge", False, PIRATE, None, {"prompt_template": TPL[tn]}, f"_tpl-{tn}")
    for tok in Tall:
        for dname in D2:
            add(tok, dname, False, None, None)
            add(tok, dname, True, PIRATE, 48)
        for s in ("", "  Multi-line\nsystem prompt\n\n"):
            add(tok, "edge", False, s, None)
            add(tok, "openai", True, s, 20)
        for msl in (4, 5, 6, 8, 9, 10):
            add(tok, "glaivemore", False, PIRATE, msl)
            add(tok, "edge", True, None, msl, {"truncation_type": "left"}, "_left")
        add(tok, "chattiny", False, None, 0)
    # Round 3: dense truncation sweep for the SentencePiece families (their own BOS/EOS/role-token rules decide
    # where a cut lands): every max_seq_len 1..25 plus 40 and 64, right and left, all train_on_input × system pairs,
    # then the same lengths through each prompt template (one toi/system pair per length, cycling through all four).
    SW_MSL = list(range(1, 26)) + [40, 64]
    SW_VAR = [(False, None), (True, PIRATE), (True, None), (False, PIRATE)]
    SW_D = {"edge": dict(D["edge"], samples=[0, 1, 2, 3, 8, 10, 12, 14]), "openai": dict(D["openai"], samples=[0, 1, 20]),
            "glaive4": D2["glaive4"]}
    SW_TPL = {"llama2": ("none", "mistralchat", "chatml"), "mistral": ("none", "l2chat", "chatml"),
              "gemma": ("l2chat", "mistralchat", "chatml"), "phi3": ("l2chat", "mistralchat", "chatml")}
    TPL["none"] = None

    def sweep(tok, dname, toi, sys_, msl, trunc, tpl=None):
        d = SW_D[dname]
        comp = {**Tall[tok], "truncation_type": trunc}
        if tpl is not None:
            comp["prompt_template"] = TPL[tpl]
        v = SW_VAR.index((toi, sys_))
        name = f"spmsweep_{tok}_{dname}_{msl}_{trunc}_{v}" + (f"_tpl-{tpl}" if tpl else "")
        cases.append({"name": name, "tokenizer": tok, "data": d["data"], "kind": d["kind"], "style": d["style"], "column": d["column"],
                      "train_on_input": toi, "new_system_prompt": sys_, "max_seq_len": msl, "limit": None, "samples": d["samples"],
                      "tokenizer_component": comp})

    for tok in sorted(SPM_FAMILIES):
        for dname in SW_D:
            for msl in SW_MSL:
                for trunc in ("right", "left"):
                    for toi, s in SW_VAR:
                        sweep(tok, dname, toi, s, msl, trunc)
        for tn in SW_TPL[tok]:
            for dname in ("edge", "openai"):
                for k, msl in enumerate(SW_MSL):
                    for j, trunc in enumerate(("right", "left")):
                        toi, s = SW_VAR[(k + 2 * j) % 4]
                        sweep(tok, dname, toi, s, msl, trunc, tn)
    return cases


def make_hostile_cases():
    """Cases of test/fixtures/torchtune-hostile (`--make-hostile-cases <file>`): every tokenizer family on the
    hostile inputs and on the Chinese OpenAI samples of issue 10, without and with max_seq_len (right and left)."""
    A = "shared/assets/torchtune/"
    bpe = {"path": A + "tiny_bpe_vocab.json", "merges_file": A + "tiny_bpe_merges.txt"}
    T = {
        "llama3": {"_component_": "torchtune.models.llama3.llama3_tokenizer", "path": "shared/assets/llama3/tokenizer.model"},
        "llama3_small": {"_component_": "torchtune.models.llama3.llama3_tokenizer", "path": A + "tiktoken_small.model"},
        "qwen2": {"_component_": "torchtune.models.qwen2.qwen2_tokenizer", **bpe, "special_tokens_path": A + "tiny_bpe_tokenizer.json"},
        "qwen2_default": {"_component_": "torchtune.models.qwen2.qwen2_tokenizer", **bpe},
        "qwen2_5": {"_component_": "torchtune.models.qwen2_5.qwen2_5_tokenizer", **bpe},
        "qwen3": {"_component_": "torchtune.models.qwen3.qwen3_tokenizer", **bpe},
        "phi4": {"_component_": "torchtune.models.phi4.phi4_tokenizer", "vocab_path": bpe["path"], "merges_path": bpe["merges_file"]},
        "llama2": {"_component_": "torchtune.models.llama2.llama2_tokenizer", "path": A + "m.model"},
        "mistral": {"_component_": "torchtune.models.mistral.mistral_tokenizer", "path": A + "m.model"},
        "gemma": {"_component_": "torchtune.models.gemma.gemma_tokenizer", "path": A + "m.model"},
        "phi3": {"_component_": "torchtune.models.phi3.phi3_mini_tokenizer", "path": A + "m.model"},
    }
    D = {
        "hostile": dict(data="repo:test/fixtures/torchtune-hostile/hostile_openai.jsonl", samples=None),
        "chinese": dict(data="shared/corpus/chat/mixed_openai.jsonl", samples=[3, 4, 5, 6]),
    }
    cases = []
    for tok, comp in T.items():
        for dname, d in D.items():
            for msl, trunc in ((None, "right"), (96, "right"), (96, "left"), (7, "right"), (32, "left")):
                extra = {"truncation_type": trunc} if trunc == "left" else {}
                cases.append({"name": f"hostile_{tok}_{dname}_{msl or 'full'}_{trunc}", "tokenizer": tok, "data": d["data"], "kind": "chat",
                              "style": "openai", "column": "messages", "train_on_input": False, "new_system_prompt": None,
                              "max_seq_len": msl, "limit": None, "samples": d["samples"], "tokenizer_component": {**comp, **extra}})
    return cases


def pack_hostile(out_dir, fixtures_dir):
    """<out> → <fixtures>/cases.json (the cases that ran), outputs.jsonl ({"case", ...line}), env.json."""
    cases = json.load(open(os.path.join(out_dir, "cases.json"), encoding="utf-8"))
    os.makedirs(fixtures_dir, exist_ok=True)
    with open(os.path.join(fixtures_dir, "outputs.jsonl"), "w", encoding="utf-8") as o:
        for c in cases:
            with open(os.path.join(out_dir, c["name"] + ".jsonl"), encoding="utf-8") as f:
                for l in f:
                    if l.strip():
                        o.write(json.dumps({"case": c["name"], **json.loads(l)}, separators=(",", ":")) + "\n")
    with open(os.path.join(fixtures_dir, "cases.json"), "w", encoding="utf-8") as f:
        f.write("[\n" + ",\n".join(json.dumps(c, separators=(",", ":")) for c in cases) + "\n]\n")
    env = json.load(open(os.path.join(out_dir, "env.json"), encoding="utf-8"))
    json.dump(env, open(os.path.join(fixtures_dir, "env.json"), "w", encoding="utf-8"), indent=1)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--pack":
        return pack(sys.argv[2], sys.argv[3])
    if len(sys.argv) == 3 and sys.argv[1] == "--make-cases":
        json.dump(make_cases(), open(sys.argv[2], "w", encoding="utf-8"), indent=1)
        return None
    if len(sys.argv) == 3 and sys.argv[1] == "--make-hostile-cases":
        json.dump(make_hostile_cases(), open(sys.argv[2], "w", encoding="utf-8"), indent=1)
        return None
    if len(sys.argv) == 4 and sys.argv[1] == "--pack-hostile":
        return pack_hostile(sys.argv[2], sys.argv[3])
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", required=True)
    ap.add_argument("--root", required=True, help="folder holding shared/")
    ap.add_argument("--inputs", default=None, help="a copy of the needed shared files (same relative paths), tried first")
    ap.add_argument("--out", required=True)
    ap.add_argument("--only", default=None, help="comma-separated tokenizer names to run")
    ap.add_argument("--stub-torch", action="store_true", help="run without PyTorch (inert torch modules; see the docstring)")
    a = ap.parse_args()
    if a.stub_torch:
        stub_torch()
    env = setup_imports()
    if a.stub_torch:
        env["torch"] = "stubbed (--stub-torch: the tokenization path never calls it)"
    print(json.dumps(env), flush=True)
    cases = json.load(open(a.cases, encoding="utf-8"))
    if a.only:
        keep = set(a.only.split(","))
        cases = [c for c in cases if c["tokenizer"] in keep]
    os.makedirs(a.out, exist_ok=True)
    done, failed = [], {}
    spm_ok = "sentencepiece" not in env["stubbed"]
    for c in cases:
        if not spm_ok and c["tokenizer"] in SPM_FAMILIES:
            failed[c["name"]] = "sentencepiece not installed"
            continue
        try:
            lines = run_case(c, a.root, a.inputs)
        except Exception as e:  # noqa: BLE001  (the harness itself failed: record, go on)
            failed[c["name"]] = f"{type(e).__name__}: {e}"
            continue
        with open(os.path.join(a.out, c["name"] + ".jsonl"), "w", encoding="utf-8") as f:
            for l in lines:
                f.write(json.dumps(l, ensure_ascii=False, separators=(",", ":")) + "\n")
        done.append(c)
    json.dump(done, open(os.path.join(a.out, "cases.json"), "w"), indent=1)
    env["failed"] = failed
    json.dump(env, open(os.path.join(a.out, "env.json"), "w"), indent=1)
    print(f"{len(done)} cases written, {len(failed)} failed", json.dumps(failed)[:2000], flush=True)


if __name__ == "__main__":
    main()
