"""What torchtune's config loader makes of tricky YAML, recorded once with the real PyYAML.

    python3 scripts/reference/pyyaml_loader_cases.py > test/fixtures/pyyaml-loader/cases.json

torchtune reads configs with OmegaConf.load, whose loader is PyYAML's SafeLoader with three changes (OmegaConf
2.3, omegaconf/_utils.py get_yaml_loader): a float resolver that also takes `1e3`-style numbers, no timestamp
resolver, and an error on duplicate keys. The same changes are applied here (OmegaConf itself is not needed), and
each case records the loaded value, or the loader's error type and message. test/core/config/pyyamlLoader.test.ts
checks that the positioned parser gives the same value, or a diagnostic where PyYAML raises.
"""
import json
import re
import sys

import yaml


class OmegaConfLikeLoader(yaml.SafeLoader):
    def construct_mapping(self, node, deep=False):
        keys = set()
        for key_node, _ in node.value:
            if key_node.tag != yaml.resolver.BaseResolver.DEFAULT_SCALAR_TAG:
                continue
            if key_node.value in keys:
                raise yaml.constructor.ConstructorError("while constructing a mapping", node.start_mark, f"found duplicate key {key_node.value}", key_node.start_mark)
            keys.add(key_node.value)
        return super().construct_mapping(node, deep=deep)


OmegaConfLikeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:
     [-+]?[0-9](?:_?[0-9])*\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9](?:_?[0-9])*(?:[eE][-+]?[0-9]+)
    |\.[0-9_]+(?:[eE][-+][0-9]+)?
    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)
OmegaConfLikeLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"] for k, v in OmegaConfLikeLoader.yaml_implicit_resolvers.items()
}

CASES = {
    "merge of one map; own keys win": "base: &b {lr: 0.1, wd: 0.0}\nopt:\n  <<: *b\n  wd: 0.5\n",
    "merge of a list: the first map wins": "a: &a {x: 1, y: 1}\nb: &b {x: 2, z: 2}\nc:\n  <<: [*a, *b]\n",
    "merged keys come first, in the merged order": "a: &a {p: 1, q: 2}\nc:\n  z: 0\n  <<: *a\n  p: 9\n",
    "merges of merges": "a: &a {x: 1}\nb: &b {<<: *a, y: 2}\nc: {<<: *b, z: 3}\n",
    "two << keys": "a: &a {x: 1, y: 1}\nb: &b {y: 2}\nc:\n  <<: *a\n  <<: *b\n",
    "the same map merged twice": "a: &a {x: 1}\nc: {<<: [*a, *a], y: 2}\n",
    "a quoted << is an ordinary key": "a: &a {x: 1}\nc: {\"<<\": *a}\n",
    "merge of a scalar": "a: &a 1\nc: {<<: *a}\n",
    "merge of a list holding a scalar": "a: &a {x: 1}\nc: {<<: [*a, 2]}\n",
    "merge of an inline scalar": "c:\n  <<: ~\n",
    "!!str keeps text": "a: !!str 1\nb: !!str True\nc: !<tag:yaml.org,2002:str> 3e-4\n",
    "!!int and !!float": "a: !!int \"7\"\nb: !!float '2'\nc: !!int 0x1F\nd: !!int 0o17\n",
    "!!bool and !!null": "a: !!bool yes\nb: !!null anything\n",
    "!!int of text": "a: !!int x\n",
    "!!bool of text": "a: !!bool maybe\n",
    "a Python object tag": "a: !!python/object/apply:os.system [echo hi]\n",
    "a custom tag": "a: !custom 1\n",
    "!!set on a single value": "a: !!set x\n",
    "!!str on a mapping": "a: !!str {x: 1}\n",
    "!!binary that is not base64": "a: !!binary 'no'\n",
    "a duplicate anchor": "a: &x 1\nb: &x 2\nc: *x\n",
    "an alias before its anchor": "a: *x\nb: &x 1\n",
    "a duplicate key": "seed: 1\nseed: 2\n",
    "a bell character": "a: 1\u0007\n",
    "a C1 control character in a comment": "a: 1  # x\u0090\n",
    "NEL, BOM and tab are allowed": "\ufeffa: \"x\u00a0y\"\nb: \"t\\tab\"\n",
    "CR-only line endings": "a: 1\rb: [x,\r  y,\r]\rc:\r  d: 2\r",
    "CRLF with a closing bracket at the key's indentation": "files: [\r\n  a,\r\n  b,\r\n]\r\nn: 2\r\n",
    "anchors of aliases of lists": "a: &a [1, 2]\nb: &b [*a, *a]\nc: [*b, *b]\n",
}


def main():
    out = []
    for name, text in CASES.items():
        try:
            value = yaml.load(text, Loader=OmegaConfLikeLoader)
            out.append({"name": name, "text": text, "value": value})
        except Exception as e:  # the loader raises ValueError, KeyError… as well as YAMLError
            why = getattr(e, "problem", None) or str(e).splitlines()[0]
            out.append({"name": name, "text": text, "error": f"{type(e).__name__}: {why}"})
    json.dump({"pyyaml": yaml.__version__, "cases": out}, sys.stdout, indent=1, ensure_ascii=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
