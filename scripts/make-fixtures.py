#!/usr/bin/python3
"""make-fixtures.py - the test fixtures that h5py itself writes.

synstruct reads what a Python model writes with h5py: variable-length UTF-8
string attributes, numpy bools as enums, float16, every integer type, big-
endian data. This script writes small HDF5 files of those kinds under
tests/fixtures/, and the answers they must give, computed here by brute-force
enumeration in float64 numpy on the values as stored (float16 and float32
values rounded first), into tests/fixtures/expected.jsonl. The files are
checked in, so that the tests (tests/bats/python.bats) need no Python.

Regenerate, from anywhere, with h5py and numpy installed:

    /usr/bin/python3 scripts/make-fixtures.py [DIR]

DIR (default tests/fixtures/) lets a test write a second copy to compare. It
is deterministic (fixed seeds; h5py turns HDF5's object timestamps off), so
with the same h5py and HDF5 a second run writes the same bytes. Check the
sizes it prints (a few KB a file) and commit tests/fixtures/ with this
script. The README's "From Python" block is run as written to make
readme-tagging.h5; expected.jsonl records its SHA-256, so a test notices when
the README changes and the fixtures were not regenerated.

Files (structure attribute at the root unless a group has its own):

  string-attrs.h5   linear-chain; a group per form of the 'structure'
                    attribute: vlen_utf8 (a plain str), vlen_ascii, fixed_ascii
                    (np.bytes_), fixed_utf8, array1 (a list of one str); and
                    bad_int, bad_two (not one string)
  chain-float.h5    linear-chain; a group per floating type: f16, f16be, f32,
                    f32be, f64, f64be, with -inf parts and NaN where unused
  chain-float-bad.h5  f16_nan, f16_pinf: NaN and +inf in a used float16 entry
  hmm-ints.h5       hmm; a group per integer type of 'observations' and
                    'lengths' (the float parameters are hard links to one copy)
  int-range.h5      integers out of range and datasets of the wrong kind
  tree-options.h5   spanning-tree; option attributes as h5py writes them
                    (Python and numpy bools, Python and numpy ints, a one-
                    element array) and ones that are refused
  chain.h5          linear-chain float64, the input of the next two
  chain-argmax-bool.h5  'argmax': the best structures of chain.h5 as a numpy
                    bool dense event [B, n, t, t]
  gold-decodes.h5   'labels' int64 [B, n] for chain.h5 and 'heads' int16
                    [B, n] for the root of tree-options.h5 (gold structures)
  readme-tagging.h5 what the README's "From Python" block writes

Each line of expected.jsonl is one case: "case" (FILE, FILE/GROUP or
FILE:DATASET), "file", "group" ("" for the root), "tol" (relative: 1e-9 for
float64 data, 1e-5 for float32 and float16), and the answers per batch
element, -inf as the string "-inf": log_partition, entropy, score and the
compact decode (labels or heads), and "warning" where one is due; or
"error", the exact message. Events files name their "input" and "dataset"
and give log_prob.
"""
import hashlib
import itertools
import json
import math
import os
import re
import subprocess
import sys
import tempfile

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "tests",
                                                         "fixtures")
NEG_INF = -np.inf

cases = []


def case(file, group="", dataset="", **answers):
    """One line of expected.jsonl: FILE, FILE/GROUP or FILE:DATASET."""
    name = file + ("/" + group if group else "") + (":" + dataset
                                                     if dataset else "")
    entry = {"case": name, "file": file, "group": group}
    if dataset:
        entry["dataset"] = dataset
    entry.update(answers)
    cases.append(entry)


def jsonable(x):
    """Numbers, -inf as "-inf", nested lists."""
    if isinstance(x, (list, tuple, np.ndarray)):
        return [jsonable(v) for v in x]
    if isinstance(x, (np.integer, int)):
        return int(x)
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "-inf" if x < 0 else "inf"
    return x


def logsumexp(values):
    values = np.asarray(values, dtype=np.float64)
    top = values.max() if values.size else NEG_INF
    if top == NEG_INF:
        return NEG_INF
    return top + math.log(np.exp(values - top).sum())


def distribution(structures):
    """log Z, entropy, best score and best structure of (score, structure)
    pairs; the best must be unique, or the fixture is ambiguous."""
    scores = np.array([s for s, _ in structures], dtype=np.float64)
    log_z = logsumexp(scores)
    if log_z == NEG_INF:
        return NEG_INF, float("nan"), NEG_INF, None
    p = np.exp(scores - log_z)
    used = p > 0
    entropy = -(p[used] * (scores[used] - log_z)).sum()
    order = np.argsort(-scores, kind="stable")
    best = order[0]
    if len(order) > 1 and scores[order[1]] > scores[best] - 1e-6:
        sys.exit("make-fixtures: a tie for the best structure; change a seed")
    return log_z, entropy, scores[best], structures[best][1]


# ---- brute force ---------------------------------------------------------

def chain_structures(lp, length):
    """(score, labels) of every tag sequence: lp [n, t, t] as SynJax."""
    t = lp.shape[1]
    out = []
    for labels in itertools.product(range(t), repeat=length):
        score, prev = 0.0, 0
        for i, y in enumerate(labels):
            score += lp[i, prev, y]
            prev = y
        out.append((score, list(labels)))
    return out


def chain_answers(lp, lengths):
    """Per element of lp [B, n, t, t] (as float64): the answers."""
    n = lp.shape[1]
    res = {"log_partition": [], "entropy": [], "score": [], "labels": []}
    for b in range(lp.shape[0]):
        z, h, s, y = distribution(chain_structures(lp[b], int(lengths[b])))
        res["log_partition"].append(z)
        res["entropy"].append(h)
        res["score"].append(s)
        res["labels"].append(list(y) + [-1] * (n - len(y)))
    return {k: jsonable(v) for k, v in res.items()}


def log_softmax(x):
    x = np.asarray(x, dtype=np.float64)
    top = x.max(axis=-1, keepdims=True)
    return x - top - np.log(np.exp(x - top).sum(axis=-1, keepdims=True))


def hmm_chain(init, trans, emit, obs):
    """The linear chain an hmm builds (SPEC §1), for one element."""
    pi, T, E = log_softmax(init), log_softmax(trans), log_softmax(emit)
    n, t = len(obs), len(pi)
    lp = np.full((n, t, t), NEG_INF)
    for i, x in enumerate(obs):
        if x < 0:
            continue
        if i == 0:
            lp[0, 0, :] = pi + E[:, x]
        else:
            lp[i] = T + E[:, x][None, :]
    return lp


def trees(length, directed=True, projective=False, single_root=False):
    """Head vectors of the spanning trees of nodes 0 .. length-1, rooted at
    0 (heads[0] = -1)."""
    for heads in itertools.product(range(length), repeat=length - 1):
        heads = (-1,) + heads
        if any(heads[d] == d for d in range(1, length)):
            continue
        ok = True
        for d in range(1, length):  # every node reaches the root
            seen, v = set(), d
            while v != 0 and ok:
                if v in seen:
                    ok = False
                seen.add(v)
                v = heads[v]
        if not ok:
            continue
        if single_root and sum(h == 0 for h in heads[1:]) != 1:
            continue
        if projective:
            arcs = [tuple(sorted((heads[d], d))) for d in range(1, length)]
            if any(a < c < b < e for a, b in arcs for c, e in arcs):
                continue
        yield list(heads)


def tree_answers(lp, lengths, directed=True, projective=False,
                 single_root=False):
    n = lp.shape[-1]
    res = {"log_partition": [], "entropy": [], "score": [], "heads": []}
    for b in range(lp.shape[0]):
        w = lp[b] if directed else (lp[b] + lp[b].T) / 2
        length = int(lengths[b])
        structures = [(sum(w[h[d], d] for d in range(1, length)), h)
                      for h in trees(length, directed, projective,
                                     single_root)]
        z, h, s, heads = distribution(structures)
        res["log_partition"].append(z)
        res["entropy"].append(h)
        res["score"].append(s)
        res["heads"].append(heads + [-1] * (n - length))
    return {k: jsonable(v) for k, v in res.items()}


def chain_score(lp, labels):
    score, prev = 0.0, 0
    for i, y in enumerate(labels):
        if y < 0:
            break
        score += lp[i, prev, y]
        prev = y
    return score


def tree_score(lp, heads):
    return sum(lp[h, d] for d, h in enumerate(heads) if d > 0 and h >= 0)


# ---- the files -----------------------------------------------------------

def new_file(name, groups=False):
    """A new fixture. A file of many groups uses HDF5's newer format
    (libver "latest": links in the group's header), about half the size of
    the default for small groups; synstruct reads both. HDF5 would put
    timestamps into those groups' headers: turned off, as h5py does for
    datasets."""
    path = os.path.join(OUT, name)
    if not groups:
        return h5py.File(path, "w")
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    fcpl.set_obj_track_times(False)
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    fapl.set_libver_bounds(h5py.h5f.LIBVER_LATEST, h5py.h5f.LIBVER_LATEST)
    return h5py.File(h5py.h5f.create(path.encode(), h5py.h5f.ACC_TRUNC,
                                     fapl=fapl, fcpl=fcpl))


def new_group(f, name):
    """f.create_group(name), without timestamps."""
    gcpl = h5py.h5p.create(h5py.h5p.GROUP_CREATE)
    gcpl.set_obj_track_times(False)
    return h5py.Group(h5py.h5g.create(f.id, name.encode(), gcpl=gcpl))


def string_attrs(rng):
    lp = rng.normal(size=(2, 3, 2, 2))
    lengths = np.array([3, 2], dtype=np.int32)
    forms = {
        "vlen_utf8": lambda a: a.__setitem__("structure", "linear-chain"),
        "vlen_ascii": lambda a: a.create(
            "structure", "linear-chain", dtype=h5py.string_dtype("ascii")),
        "fixed_ascii": lambda a: a.__setitem__(
            "structure", np.bytes_("linear-chain")),
        "fixed_utf8": lambda a: a.create(
            "structure", "linear-chain".encode(),
            dtype=h5py.string_dtype("utf-8", 16)),
        "array1": lambda a: a.__setitem__("structure", ["linear-chain"]),
        "bad_int": lambda a: a.__setitem__("structure", 3),
        "bad_two": lambda a: a.__setitem__(
            "structure", ["linear-chain", "hmm"]),
    }
    with new_file("string-attrs.h5", groups=True) as f:
        f.attrs["structure"] = "linear-chain"
        f["log_potentials"] = lp
        f["lengths"] = lengths
        for name, write in forms.items():
            g = new_group(f, name)
            write(g.attrs)
            g["log_potentials"] = f["log_potentials"]  # a hard link
            g["lengths"] = f["lengths"]
            if name.startswith("bad"):
                case("string-attrs.h5", name,
                     error="synstruct: error: 'string-attrs.h5': attribute "
                     "'structure' is not a string")
            else:
                case("string-attrs.h5", name, tol=1e-9,
                     **chain_answers(lp, lengths))
    case("string-attrs.h5", tol=1e-9, **chain_answers(lp, lengths))


def chain_float(rng):
    # [3, 4, 3, 3], lengths 4 3 2; -inf forbids some transitions; NaN
    # where nothing reads: rows a > 0 at i = 0, and past the length
    base = rng.normal(size=(3, 4, 3, 3)) * 2
    base[0, 2, 1, 0] = NEG_INF
    base[1, 1, :, 2] = NEG_INF
    base[2, 0, 0, 1] = NEG_INF
    lengths = np.array([4, 3, 2], dtype=np.int64)
    nan_at = [(0, 0, 1, 1), (1, 0, 2, 0), (1, 3, 0, 0), (2, 2, 1, 2),
              (2, 3, 2, 2)]
    types = {"f16": "<f2", "f16be": ">f2", "f32": "<f4", "f32be": ">f4",
             "f64": "<f8", "f64be": ">f8"}
    with new_file("chain-float.h5", groups=True) as f:
        f.attrs["structure"] = "linear-chain"
        f["lengths"] = lengths
        for name, dtype in types.items():
            stored = base.astype(dtype)
            for at in nan_at:
                stored[at] = np.nan
            g = new_group(f, name)
            g["log_potentials"] = stored
            g["lengths"] = f["lengths"]
            case("chain-float.h5", name,
                 tol=1e-9 if dtype.endswith("8") else 1e-5,
                 **chain_answers(stored.astype(np.float64), lengths))
    with new_file("chain-float-bad.h5", groups=True) as f:
        f.attrs["structure"] = "linear-chain"
        f["lengths"] = lengths
        for name, value in (("f16_nan", np.nan), ("f16_pinf", np.inf)):
            stored = base.astype(np.float16)
            stored[1, 2, 0, 1] = value
            g = new_group(f, name)
            g["log_potentials"] = stored
            g["lengths"] = f["lengths"]
            case("chain-float-bad.h5", name,
                 error="synstruct: error: 'chain-float-bad.h5': dataset "
                 "'log_potentials' holds %s at [2, 0, 1] in batch element "
                 "[1]" % ("NaN" if np.isnan(value) else "+inf"))


INT_TYPES = {
    "int8": "i1", "uint8": "u1", "int16": "<i2", "uint16": "<u2",
    "int32": "<i4", "uint32": "<u4", "int64": "<i8", "uint64": "<u8",
    "int16be": ">i2", "uint16be": ">u2", "int32be": ">i4",
    "uint32be": ">u4", "int64be": ">i8", "uint64be": ">u8",
}


def int_types(rng):
    init = rng.normal(size=3)
    trans = rng.normal(size=(3, 3))
    emit = rng.normal(size=(3, 4))
    obs = np.array([[0, 3, 1, 2], [2, 2, -1, -1], [3, -1, -1, -1]])
    lengths = np.array([4, 2, 1])
    chains = np.stack([hmm_chain(init, trans, emit, o) for o in obs])
    answers = chain_answers(chains, lengths)
    with new_file("hmm-ints.h5", groups=True) as f:
        f.attrs["structure"] = "hmm"
        f["init_logits"] = init
        f["transition_logits"] = trans
        f["emission_logits"] = emit
        for name, dtype in INT_TYPES.items():
            g = new_group(f, name)
            for shared in ("init_logits", "transition_logits",
                           "emission_logits"):
                g[shared] = f[shared]
            # unsigned types cannot hold the -1 padding: 0 there instead
            o = obs if dtype[-2] in "i" else np.maximum(obs, 0)
            g["observations"] = o.astype(dtype)
            g["lengths"] = lengths.astype(dtype)
            case("hmm-ints.h5", name, tol=1e-9, **answers)


def int_range(rng):
    lp = rng.normal(size=(2, 3, 2, 2))
    path = "int-range.h5"

    def error(what):
        return "synstruct: error: '%s': %s" % (path, what)

    with new_file(path, groups=True) as f:
        f.attrs["structure"] = "linear-chain"
        f["log_potentials"] = lp
        groups = {
            "int8_negative": (np.array([-1, 2], "i1"),
                              "dataset 'lengths' holds -1, outside [0, 3] "
                              "in batch element [0]"),
            "uint32_huge": (np.array([2, 2**32 - 1], "<u4"),
                            "dataset 'lengths' holds 4294967295, outside "
                            "[0, 3] in batch element [1]"),
            "uint64_huge": (np.array([2, 2**64 - 1], "<u8"),
                            "dataset 'lengths' holds 18446744073709551615, "
                            "outside the int64 range in batch element [1]"),
            "uint64be_huge": (np.array([2**63, 1], ">u8"),
                              "dataset 'lengths' holds 9223372036854775808, "
                              "outside the int64 range in batch element "
                              "[0]"),
            "float_lengths": (np.array([1, 2], "<f2"),
                              "dataset 'lengths' is not integer; "
                              "linear-chain needs an integer dataset"),
            "bool_lengths": (np.array([True, True]),
                             "dataset 'lengths' is not integer; "
                             "linear-chain needs an integer dataset"),
        }
        for name, (lengths, what) in groups.items():
            g = new_group(f, name)
            g["log_potentials"] = f["log_potentials"]
            g["lengths"] = lengths
            case(path, name, error=error(what))
        g = new_group(f, "int_potentials")
        g["log_potentials"] = np.zeros((2, 3, 2, 2), dtype=np.int32)
        case(path, "int_potentials",
             error=error("dataset 'log_potentials' is not floating-point; "
                         "linear-chain needs a float16, float32 or float64 "
                         "dataset"))
        for name, obs, what in (
                ("uint64_observations",
                 np.array([[0, 2**64 - 1, 1], [1, 0, 0]], ">u8"),
                 "dataset 'observations' holds 18446744073709551615 at [1], "
                 "outside the int64 range in batch element [0]"),
                ("int16_observations",
                 np.array([[0, 1, 1], [1, -2, 0]], "<i2"),
                 "dataset 'observations' holds -2 at [1], outside [0, 3) "
                 "in batch element [1]")):
            g = new_group(f, name)
            g.attrs["structure"] = "hmm"
            g["init_logits"] = np.zeros(2)
            g["transition_logits"] = np.zeros((2, 2))
            g["emission_logits"] = np.zeros((2, 3))
            g["observations"] = obs
            case(path, name, error=error(what))


def tree_options(rng):
    lp = rng.normal(size=(2, 5, 5)) * 2
    lengths = np.array([5, 4], dtype=np.int32)
    path = "tree-options.h5"
    groups = {
        # name: (attributes, directed, projective, single_root)
        "py_bool": ({"projective": True}, True, True, False),
        "np_bool": ({"directed": np.False_, "single_root_edge": np.True_},
                    False, False, True),
        "py_int": ({"projective": 1, "single_root_edge": 1},
                   True, True, True),
        "np_ints": ({"directed": np.uint8(0), "projective": np.int16(1)},
                    False, True, False),
        "array1": ({"single_root_edge": np.array([1])}, True, False, True),
        "typo": ({"projectve": True, "model_name": "biaffine"},
                 True, False, False),
    }
    refused = {
        "bad_string": {"projective": "1"},
        "bad_float": {"projective": 1.0},
        "bad_uint64": {"single_root_edge": np.uint64(2**64 - 1)},
        "bad_two": {"projective": np.array([1, 1])},
    }
    with new_file(path, groups=True) as f:
        f.attrs["structure"] = "spanning-tree"
        f["log_potentials"] = lp
        f["lengths"] = lengths
        case(path, tol=1e-9, **tree_answers(lp, lengths))
        for name, (attrs, directed, projective, single) in groups.items():
            g = new_group(f, name)
            for key, value in attrs.items():
                g.attrs[key] = value
            g["log_potentials"] = f["log_potentials"]
            g["lengths"] = f["lengths"]
            answers = tree_answers(lp, lengths, directed, projective, single)
            if name == "typo":
                answers["warning"] = (
                    "synstruct: warning: '%s': attribute 'projectve' is not "
                    "an option of spanning-tree; did you mean 'projective'?"
                    % path)
            case(path, name, tol=1e-9, **answers)
        for name, attrs in refused.items():
            g = new_group(f, name)
            for key, value in attrs.items():
                g.attrs[key] = value
            g["log_potentials"] = f["log_potentials"]
            option = next(iter(attrs))
            case(path, name,
                 error="synstruct: error: '%s': attribute '%s' must be the "
                 "integer 0 or 1" % (path, option))
    return lp, lengths


def events(rng, tree_lp, tree_lengths):
    """chain.h5, its argmax as numpy bools, and gold compact decodes."""
    lp = rng.normal(size=(3, 4, 3, 3))
    lengths = np.array([4, 2, 3], dtype=np.int64)
    with new_file("chain.h5") as f:
        f.attrs["structure"] = "linear-chain"
        f["log_potentials"] = lp
        f["lengths"] = lengths
    answers = chain_answers(lp, lengths)
    case("chain.h5", tol=1e-9, **answers)

    argmax = np.zeros(lp.shape, dtype=np.bool_)
    for b, labels in enumerate(answers["labels"]):
        prev = 0
        for i, y in enumerate(labels):
            if y < 0:
                break
            argmax[b, i, prev, y] = True
            prev = y
    with new_file("chain-argmax-bool.h5") as f:
        f["argmax"] = argmax
    case("chain-argmax-bool.h5", input="chain.h5", tol=1e-9,
         log_prob=jsonable([s - z for s, z in zip(answers["score"],
                                                  answers["log_partition"])]))

    # gold structures: random tag sequences, random trees
    labels = np.full((3, 4), -1, dtype=np.int64)
    for b, length in enumerate(lengths):
        labels[b, :length] = rng.integers(0, 3, size=length)
    heads = np.full((2, 5), -1, dtype=np.int16)
    for b, length in enumerate(tree_lengths):
        candidates = list(trees(int(length)))
        heads[b, :length] = candidates[rng.integers(len(candidates))]
    with new_file("gold-decodes.h5") as f:
        f["labels"] = labels
        f["heads"] = heads
    tree = tree_answers(tree_lp, tree_lengths)
    case("gold-decodes.h5", dataset="labels", input="chain.h5", tol=1e-9,
         log_prob=jsonable([chain_score(lp[b], labels[b]) - z for b, z in
                            enumerate(answers["log_partition"])]))
    case("gold-decodes.h5", dataset="heads", input="tree-options.h5",
         tol=1e-9,
         log_prob=jsonable([tree_score(tree_lp[b], heads[b]) - z for b, z in
                            enumerate(tree["log_partition"])]))


def readme_block():
    """The README's "From Python" block, as the tests extract it."""
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    match = re.search(r"^From Python:\n\n```python\n(.*?)^```$", text,
                      re.M | re.S)
    if not match:
        sys.exit("make-fixtures: no ```python block after 'From Python:' "
                 "in README.md")
    return match.group(1)


def readme():
    block = readme_block()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-c", block], cwd=tmp, check=True)
        with open(os.path.join(tmp, "tagging.h5"), "rb") as src:
            data = src.read()
    with open(os.path.join(OUT, "readme-tagging.h5"), "wb") as dst:
        dst.write(data)
    with h5py.File(os.path.join(OUT, "readme-tagging.h5"), "r") as f:
        lp = f["log_potentials"][()]
        lengths = f["lengths"][()]
        tol = 1e-9 if lp.dtype == np.float64 else 1e-5
        answers = chain_answers(lp.astype(np.float64), lengths)
    case("readme-tagging.h5", tol=tol,
         readme_sha256=hashlib.sha256(block.encode()).hexdigest(), **answers)


def main():
    os.makedirs(OUT, exist_ok=True)
    string_attrs(np.random.default_rng(1))
    chain_float(np.random.default_rng(2))
    int_types(np.random.default_rng(3))
    int_range(np.random.default_rng(4))
    tree_lp, tree_lengths = tree_options(np.random.default_rng(5))
    events(np.random.default_rng(6), tree_lp, tree_lengths)
    readme()
    with open(os.path.join(OUT, "expected.jsonl"), "w") as out:
        for entry in cases:
            out.write(json.dumps(entry, separators=(",", ":"),
                                 allow_nan=False) + "\n")
    total = 0
    for name in sorted(os.listdir(OUT)):
        size = os.path.getsize(os.path.join(OUT, name))
        total += size
        print("%-24s %7d" % (name, size))
    print("%-24s %7d" % ("total", total))


if __name__ == "__main__":
    main()
