#!/usr/bin/env python3
"""Builds core/frameworks/catalog.json: the config keys of Axolotl, TRL (`trl sft --config`) and LLaMA-Factory.

Reads the frameworks' pydantic models and dataclasses with `ast` from git snapshots (no code of theirs runs):
  python3 scripts/reference/framework_config_catalog.py AXOLOTL_GIT TRL_GIT LLAMAFACTORY_GIT > core/frameworks/catalog.json
(each argument a git directory, e.g. from `fetch github:axolotl-ai-cloud/axolotl`; HEAD is read). The keys the TRL and
LLaMA-Factory argument classes inherit from transformers' TrainingArguments come from transformers-training-args.tsv.
"""
import ast
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# Where the TrainingArguments fields that TRL and LLaMA-Factory inherit were transcribed from (transformers-training-args.tsv).
TRANSFORMERS = {"repo": "huggingface/transformers", "commit": "00349ae87eddc872ffa21a8a54f264375a0056a8", "file": "src/transformers/training_args.py"}


def git(repo, *args):
    return subprocess.run(["git", "--git-dir", repo, *args], check=True, capture_output=True, text=True).stdout


def head(repo):
    return git(repo, "rev-parse", "HEAD").strip()


def files_under(repo, prefix, suffix=".py"):
    return [p for p in git(repo, "ls-tree", "-r", "--name-only", "HEAD", prefix).split("\n") if p.endswith(suffix)]


def one_line(text):
    text = " ".join((text or "").split())
    return text[:400]


def const_str(node):
    """A string literal, or implicitly/explicitly concatenated literals."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        a, b = const_str(node.left), const_str(node.right)
        return a + b if a is not None and b is not None else None
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{…}" for v in node.values)
    return None


def dict_get(node, key):
    if isinstance(node, ast.Dict):
        for k, v in zip(node.keys, node.values):
            if isinstance(k, ast.Constant) and k.value == key:
                return v
    return None


def literal_default(node):
    """A JSON-able default, or a marker for what cannot be known statically."""
    try:
        v = ast.literal_eval(node)
        json.dumps(v)
        return {"value": v}
    except Exception:
        return {"expr": ast.unparse(node)[:200]}


class Model:
    def __init__(self, name, bases, fields, doc):
        self.name, self.bases, self.fields, self.doc = name, bases, fields, doc


def read_classes(repo, paths, enums, models):
    for path in paths:
        tree = ast.parse(git(repo, "show", f"HEAD:{path}"), path)
        for node in tree.body:
            if not isinstance(node, ast.ClassDef):
                continue
            bases = [ast.unparse(b).split(".")[-1] for b in node.bases]
            if "Enum" in bases:
                values = []
                for st in node.body:
                    if isinstance(st, ast.Assign) and isinstance(st.value, ast.Constant) and isinstance(st.value.value, str):
                        values.append(st.value.value)
                # An Enum whose members are not all strings (torch dtypes) accepts no YAML string we can check.
                if values and all(isinstance(st.value, ast.Constant) for st in node.body if isinstance(st, ast.Assign)):
                    enums[node.name] = values
                continue
            fields = {}
            for st in node.body:
                if not (isinstance(st, ast.AnnAssign) and isinstance(st.target, ast.Name)):
                    continue
                name = st.target.id
                if name.startswith("_") or name == "model_config":
                    continue
                info = {"annotation": ast.unparse(st.annotation), "ann": st.annotation, "source": path}
                if st.value is not None:
                    call = st.value
                    if isinstance(call, ast.Call) and ast.unparse(call.func).split(".")[-1] in ("field", "Field"):
                        kw = {k.arg: k.value for k in call.keywords if k.arg}
                        if "default" in kw:
                            info["default"] = literal_default(kw["default"])
                        elif call.args:
                            info["default"] = literal_default(call.args[0])
                        elif "default_factory" in kw:
                            f = ast.unparse(kw["default_factory"])
                            info["default"] = {"value": [] if f == "list" else {} if f == "dict" else None} if f in ("list", "dict") else {"expr": f + "()"}
                        doc = None
                        for holder, key in (("metadata", "help"), ("json_schema_extra", "description")):
                            if holder in kw:
                                d = dict_get(kw[holder], key)
                                if d is not None:
                                    doc = const_str(d)
                        if doc is None and "description" in kw:
                            doc = const_str(kw["description"])
                        if "metadata" in kw:
                            choices = dict_get(kw["metadata"], "choices")
                            if choices is not None:
                                try:
                                    info["choices"] = list(ast.literal_eval(choices))
                                except Exception:
                                    pass
                        if doc:
                            info["doc"] = one_line(doc)
                        # pydantic: the YAML may spell the key by its alias (populate_by_name accepts both).
                        for a in ("alias", "validation_alias"):
                            if a in kw and isinstance(kw[a], ast.Constant) and isinstance(kw[a].value, str):
                                info["alias"] = kw[a].value
                    else:
                        info["default"] = literal_default(call)
                fields[name] = info
            models[node.name] = Model(node.name, bases, fields, one_line(ast.get_docstring(node) or ""))


def read_tsv(models, enums):
    """transformers' TrainingArguments (and Seq2SeqTrainingArguments) from the committed transcription."""
    current = "TrainingArguments"
    tables = {"TrainingArguments": {}, "Seq2SeqTrainingArguments": {}}
    with open(os.path.join(HERE, "transformers-training-args.tsv"), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            if line.startswith("["):
                current = line.strip("[]")
                continue
            if current == "enums":
                name, values = line.split("\t")
                enums[name] = values.split(",")
                continue
            name, annotation, default, doc = line.split("\t")
            tables[current][name] = {
                "annotation": annotation,
                "ann": ast.parse(annotation, mode="eval").body,
                "default": literal_default(ast.parse(default, mode="eval").body),
                "doc": doc,
                "source": "transformers:src/transformers/training_args.py",
            }
    models["TrainingArguments"] = Model("TrainingArguments", [], tables["TrainingArguments"], "")
    models["Seq2SeqTrainingArguments"] = Model("Seq2SeqTrainingArguments", ["TrainingArguments"], tables["Seq2SeqTrainingArguments"], "")


def all_fields(models, name, seen=None):
    """Fields in Python's resolution order: a subclass's own field wins over its bases', earlier bases over later."""
    seen = seen or set()
    if name in seen or name not in models:
        return {}
    seen.add(name)
    m = models[name]
    out = {}
    for base in reversed(m.bases):
        out.update(all_fields(models, base, seen))
    for k, v in m.fields.items():
        merged = dict(out.get(k, {}))
        merged.update(v)
        out[k] = merged
        if v.get("alias"):
            out[v["alias"]] = {**merged, "doc": (merged.get("doc") or "") + f" (alias of `{k}`)".strip()}
    return out


# The string patterns met while reading one annotation (set by key_entry).
PATTERNS = None

SCALARS = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "None": "null", "Path": "string"}


def kinds(ann, models, enums):
    """(JSON kinds the YAML value may have, enum values or None when any string goes)."""
    if isinstance(ann, ast.Constant) and ann.value is None:
        return {"null"}, None
    if isinstance(ann, ast.Constant) and isinstance(ann.value, str):
        try:
            return kinds(ast.parse(ann.value, mode="eval").body, models, enums)
        except SyntaxError:
            return {"any"}, None
    if isinstance(ann, ast.BinOp) and isinstance(ann.op, ast.BitOr):
        k1, e1 = kinds(ann.left, models, enums)
        k2, e2 = kinds(ann.right, models, enums)
        return merge(k1, e1, k2, e2)
    if isinstance(ann, ast.Subscript):
        base = ast.unparse(ann.value).split(".")[-1]
        args = ann.slice.elts if isinstance(ann.slice, ast.Tuple) else [ann.slice]
        if base in ("Optional",):
            k, e = kinds(args[0], models, enums)
            return k | {"null"}, e
        if base == "Union":
            k, e = set(), None
            first = True
            for a in args:
                ka, ea = kinds(a, models, enums)
                if first:
                    k, e, first = ka, ea, False
                else:
                    k, e = merge(k, e, ka, ea)
            return k, e
        if base == "Annotated":
            # Annotated[str, StringConstraints(pattern=...)]: only strings that match, recorded as a pattern.
            for meta in args[1:]:
                if isinstance(meta, ast.Call) and ast.unparse(meta.func).split(".")[-1] == "StringConstraints":
                    pat = next((k.value.value for k in meta.keywords if k.arg == "pattern" and isinstance(k.value, ast.Constant)), None)
                    if pat is not None and PATTERNS is not None:
                        PATTERNS.append(pat)
                        return {"string"}, []
            return kinds(args[0], models, enums)
        if base == "Literal":
            vals = [a.value for a in args if isinstance(a, ast.Constant)]
            ks = set()
            for v in vals:
                ks.add("null" if v is None else "boolean" if isinstance(v, bool) else "integer" if isinstance(v, int) else "number" if isinstance(v, float) else "string")
            return ks, [v for v in vals if isinstance(v, str)]
        if base in ("list", "List", "tuple", "Tuple", "set", "Sequence"):
            return {"array"}, None
        if base in ("dict", "Dict", "Mapping"):
            return {"object"}, None
        return {"any"}, None
    if isinstance(ann, (ast.Name, ast.Attribute)):
        name = ast.unparse(ann).split(".")[-1]
        if name in SCALARS:
            return {SCALARS[name]}, None
        if name in ("list", "List"):
            return {"array"}, None
        if name in ("dict", "Dict"):
            return {"object"}, None
        if name in enums:
            return {"string"}, list(enums[name])
        if name in models and models[name].fields:
            return {"object"}, None
    return {"any"}, None


def merge(k1, e1, k2, e2):
    ks = k1 | k2
    # An enum constrains strings only while every string-typed alternative is an enum.
    s1, s2 = "string" in k1, "string" in k2
    if s1 and s2:
        e = e1 + e2 if e1 is not None and e2 is not None else None
    else:
        e = e1 if s1 else e2 if s2 else None
    return ks, e


def key_entry(name, info, models, enums):
    global PATTERNS
    PATTERNS = []
    ks, enum = kinds(info["ann"], models, enums)
    patterns, PATTERNS = PATTERNS, None
    if info.get("choices") and all(isinstance(c, str) for c in info["choices"]):
        enum = info["choices"]
    e = {"type": info["annotation"], "kinds": sorted(ks)}
    if "default" in info:
        d = info["default"]
        e["default"] = d["value"] if "value" in d else None
        if "expr" in d:
            e["defaultExpr"] = d["expr"]
    if enum:
        e["enum"] = list(dict.fromkeys(enum))
    if enum is not None and patterns:
        e["enum"] = list(dict.fromkeys(enum))
        e["enumPatterns"] = patterns
    if info.get("doc"):
        e["doc"] = info["doc"]
    e["source"] = info["source"]
    return e


def catalog(models, enums, roots):
    out = {}
    for root in roots:
        for name, info in all_fields(models, root).items():
            out.setdefault(name, key_entry(name, info, models, enums))
    return dict(sorted(out.items()))


def main():
    ax, trl, lf = sys.argv[1:4]
    result = {"generatedBy": "scripts/reference/framework_config_catalog.py", "frameworks": {}}

    enums, models = {}, {}
    schema_files = files_under(ax, "src/axolotl/utils/schemas/")
    plugin_files = [p for p in files_under(ax, "src/axolotl/integrations/") if p.endswith("/args.py")]
    read_classes(ax, schema_files, enums, models)
    top = catalog(models, enums, ["AxolotlInputConfig"])
    plugin_models, plugin_enums = {}, dict(enums)
    read_classes(ax, plugin_files, plugin_enums, plugin_models)
    plugin_models_all = {**models, **plugin_models}
    plugins = {}
    for pm in plugin_models:
        for name, info in all_fields(plugin_models_all, pm).items():
            if name not in top:
                e = key_entry(name, info, plugin_models_all, plugin_enums)
                e["plugin"] = True
                plugins.setdefault(name, e)
    top.update(plugins)
    dataset_roots = ["SFTDataset", "DPODataset", "KTODataset", "StepwiseSupervisedDataset", "SyntheticDataset", "PretrainingDataset"]
    result["frameworks"]["axolotl"] = {
        "repo": "axolotl-ai-cloud/axolotl",
        "commit": head(ax),
        "files": sorted(set(schema_files + plugin_files)),
        "unknownKeys": "dropped",
        "keys": dict(sorted(top.items())),
        "datasetKeys": catalog(models, enums, dataset_roots),
    }

    enums, models = {}, {}
    read_tsv(models, enums)
    trl_files = ["trl/trainer/base_config.py", "trl/trainer/sft_config.py", "trl/trainer/model_config.py", "trl/scripts/utils.py"]
    read_classes(trl, trl_files, enums, models)
    result["frameworks"]["trl"] = {
        "repo": "huggingface/trl",
        "commit": head(trl),
        "files": trl_files,
        "transformers": TRANSFORMERS,
        "unknownKeys": "error",
        # trl/scripts/sft.py make_parser: TrlParser((ScriptArguments, SFTConfig, ModelConfig, DatasetMixtureConfig))
        "keys": catalog(models, enums, ["ScriptArguments", "SFTConfig", "ModelConfig", "DatasetMixtureConfig"]),
        "datasetKeys": catalog(models, enums, ["DatasetConfig"]),
    }

    enums, models = {}, {}
    read_tsv(models, enums)
    # LLaMA-Factory names its own class TrainingArguments; transformers' one is its base's base.
    models["HFTrainingArguments"] = models.pop("TrainingArguments")
    models["Seq2SeqTrainingArguments"].bases = ["HFTrainingArguments"]
    lf_files = [f"src/llamafactory/hparams/{n}.py" for n in ("model_args", "data_args", "training_args", "finetuning_args", "generating_args")]
    read_classes(lf, lf_files, enums, models)
    models["BaseTrainingArguments"] = models["Seq2SeqTrainingArguments"]
    result["frameworks"]["llamafactory"] = {
        "repo": "hiyouga/LLaMA-Factory",
        "commit": head(lf),
        "files": lf_files,
        "transformers": TRANSFORMERS,
        "unknownKeys": "error",
        # src/llamafactory/hparams/parser.py _TRAIN_ARGS
        "keys": catalog(models, enums, ["ModelArguments", "DataArguments", "TrainingArguments", "FinetuningArguments", "GeneratingArguments"]),
    }
    json.dump(result, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
