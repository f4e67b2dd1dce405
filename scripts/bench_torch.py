#!/usr/bin/python3
"""bench_torch.py - the reference timings of make bench (not a test).

usage: bench_torch.py SYNSTRUCT DIR [ISA ...]

Times, on one thread, the plain PyTorch a user would write for the same
problems synstruct solves, and the floors HDF5 sets, then runs synstruct
on the same files and prints each ratio (synstruct / reference; below 1 is
faster than the reference):

  chain log Z        a log-space forward loop (torch.logsumexp per position)
  chain marginals    the same loop and autograd's backward
  command partition  the whole command against reading the dataset (h5py,
                     which calls H5Dread)
  command marginals  the whole command against reading the dataset and
                     writing one of its size
  non-projective     log Z against torch.linalg.slogdet of the Laplacians
                     (float64, batched; the Matrix-Tree Theorem); and one
                     sample per tree against synstruct's own marginals,
                     multi-root and single-root (B=32, n=48)
  projective         log Z against Eisner's algorithm in PyTorch, vectorised
                     over the batch and the spans of one width (float32)
  semi-markov        log Z against its forward loop, vectorised over the
                     batch and the segment lengths (B=16 n=64 m=8 t=16)
  ctc                log Z against the textbook CTC forward loop over the
                     extended labels (B=32, 200 frames, L=40, V=64)
  alignment          monotone many-to-many log Z against a loop over the
                     anti-diagonals (B=32, 128 x 128)
  tree-crf           log Z against CKY vectorised over the spans of one
                     width (B=16, n=40, L=16)
  pcfg               log Z against CKY with the binary rules as one matrix
                     product per width (B=16, n=30, nt=30, pt=60)
  td-pcfg            log Z against rank-space CKY (B=16, n=30, nt=30, r=64)

Each reference is first checked against synstruct's answer (1e-4), so that
both time the same thing. Issue 8 sets the targets of the chain, command
and non-projective lines; the other structures' ratios are reported
("target <= -").

Each figure is the best of REPEAT (default 3) runs; a line's reference
and synstruct run in turn, so that a slower spell of the machine (a
shared one has them) weighs on both sides of its ratio.

One section per instruction set named (SYNSTRUCT_ISA), each run in a
process of its own whose PyTorch uses no instruction set that synstruct's
path does not (ATEN_CPU_CAPABILITY: "default", its kernels without AVX,
for scalar; at most "avx2" for avx2; its own choice elsewhere), so that
each section is what a machine with that instruction set and no more
would measure. torch.linalg.slogdet and the h5py floors do not depend on
it (Debian's PyTorch calls the reference LAPACK).
"""
import os
import subprocess
import sys
import time

import h5py
import numpy as np
import torch

REPEAT = int(os.environ.get("REPEAT", "3"))
torch.set_num_threads(1)


def timed(fn):
    """Seconds of one call of fn."""
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def synstruct(binary, args, isa=None):
    """Compute and wall seconds of one synstruct command, one thread."""
    env = dict(os.environ)
    if isa:
        env["SYNSTRUCT_ISA"] = isa
    t0 = time.perf_counter()
    run = subprocess.run([binary] + args + ["-j", "1", "--timing"],
                         env=env, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    for word in run.stderr.split(";"):
        if "compute" in word:
            return float(word.split("compute")[1].split()[0]), wall
    raise RuntimeError("no compute time in: " + run.stderr)


def paired(reference, binary, args, isa):
    """The best of REPEAT reference seconds (a function's), and of the
    compute and wall seconds of a synstruct command, their runs taken in
    turn, so that a slower spell of the machine weighs on both sides."""
    ref, compute, wall = [], [], []
    for _ in range(REPEAT):
        ref.append(timed(reference))
        c, w = synstruct(binary, args, isa)
        compute.append(c)
        wall.append(w)
    return min(ref), min(compute), min(wall)


def chain_forward(theta):
    # unbind: indexing theta[:, i] would make autograd write a gradient of
    # theta's full size at every position (minutes instead of a second).
    steps = theta.unbind(1)
    alpha = steps[0][:, 0, :]
    for step in steps[1:]:
        alpha = torch.logsumexp(alpha[:, :, None] + step, dim=1)
    return torch.logsumexp(alpha, dim=1)


def eisner(w):
    """log Z of multi-root projective trees: Eisner's algorithm vectorised
    over the batch and the spans of one width, in log space."""
    b, n, _ = w.shape
    neg = torch.full((b, n, n), -float("inf"), dtype=w.dtype)
    cr, cl, ir, il = neg.clone(), neg.clone(), neg.clone(), neg.clone()
    idx = torch.arange(n)
    cr[:, idx, idx] = 0
    cl[:, idx, idx] = 0
    for k in range(1, n):
        s = torch.arange(n - k)
        t = s + k
        r = s[:, None] + torch.arange(k)[None, :]
        split = torch.logsumexp(cr[:, s[:, None], r] + cl[:, r + 1, t[:, None]],
                                dim=-1)
        ir[:, s, t] = split + w[:, s, t]
        il[:, s, t] = split + w[:, t, s]
        il[:, 0, t[0]] = -float("inf")  # node 0 has no head
        r1 = r + 1
        cr[:, s, t] = torch.logsumexp(ir[:, s[:, None], r1] + cr[:, r1, t[:, None]],
                                      dim=-1)
        cl[:, s, t] = torch.logsumexp(cl[:, s[:, None], r] + il[:, r, t[:, None]],
                                      dim=-1)
    return cr[:, 0, n - 1]


def check_eisner(binary, path, out, wp):
    """The PyTorch Eisner agrees with synstruct, so that it times the same
    thing."""
    run = subprocess.run([binary, "partition", "-f", "jsonl", path],
                         capture_output=True, text=True, check=True)
    ours = [float(l.split('"log_partition":')[1].rstrip("}"))
            for l in run.stdout.splitlines()]
    ref = eisner(torch.from_numpy(wp).double()).tolist()
    worst = max(abs(a - b) / max(1.0, abs(b)) for a, b in zip(ours, ref))
    if worst > 1e-5:
        sys.exit(f"bench_torch.py: PyTorch Eisner differs from synstruct by {worst:g}")


def semi_markov_forward(theta):
    """log Z of a semi-Markov CRF theta [B, n, m, t, t] ([i, j, a, c]: a
    segment labelled c ends at i, has length j + 1, follows label a)."""
    b, n, m, t, _ = theta.shape
    alpha = []
    for i in range(n):
        terms = []
        if i < m:  # the first segment: virtual start label 0
            terms.append(theta[:, i, i, 0, :])
        js = range(min(m, i))
        if len(js):
            prev = torch.stack([alpha[i - j - 1] for j in js], dim=1)
            scores = theta[:, i, :len(js)]  # [b, J, t, t]
            terms.append(torch.logsumexp(
                torch.logsumexp(prev[..., None] + scores, dim=2), dim=1))
        alpha.append(torch.logsumexp(torch.stack(terms), dim=0))
    return torch.logsumexp(alpha[-1], dim=-1)


def ctc_forward(logits, labels, blank=0):
    """log p(labels | logits) by the CTC forward recursion over the
    extended labels (Graves et al. 2006), every frame and label used."""
    b, n, _ = logits.shape
    logp = torch.log_softmax(logits, dim=-1)
    ext = torch.full((b, 2 * labels.shape[1] + 1), blank, dtype=torch.long)
    ext[:, 1::2] = labels
    s = ext.shape[1]
    emit = torch.gather(logp, 2, ext[:, None, :].expand(b, n, s))
    skip = torch.zeros((b, s), dtype=torch.bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    neg = torch.full((b, s), -float("inf"), dtype=logits.dtype)
    alpha = neg.clone()
    alpha[:, :2] = emit[:, 0, :2]
    for f in range(1, n):
        one = torch.cat([neg[:, :1], alpha[:, :-1]], dim=1)
        two = torch.cat([neg[:, :2], alpha[:, :-2]], dim=1)
        two = torch.where(skip, two, neg)
        alpha = torch.logsumexp(torch.stack([alpha, one, two]), dim=0) + emit[:, f]
    return torch.logaddexp(alpha[:, -1], alpha[:, -2])


def alignment_forward(theta):
    """log Z of monotone many-to-many alignments of theta [B, R, C] (right,
    down and diagonal moves; every visited cell scored), one anti-diagonal
    at a time."""
    b, rows, cols = theta.shape
    r = torch.arange(rows)
    neg = torch.full((b, rows), -float("inf"), dtype=theta.dtype)

    def shifted(x):
        return torch.cat([neg[:, :1], x[:, :-1]], dim=1)
    prev2, prev = neg, neg.clone()
    prev[:, 0] = theta[:, 0, 0]
    for d in range(1, rows + cols - 1):
        c = d - r
        valid = (c >= 0) & (c < cols)
        cell = torch.where(valid, theta[:, r, c.clamp(0, cols - 1)], neg)
        best = torch.logsumexp(torch.stack([prev, shifted(prev), shifted(prev2)]),
                               dim=0)
        prev2, prev = prev, torch.where(valid, cell + best, neg)
    return prev[:, rows - 1]


def tree_crf_inside(theta):
    """log Z of labelled binary bracketings of theta [B, n, n, L] (CKY,
    one width at a time, vectorised over the batch and the spans)."""
    b, n, _, _ = theta.shape
    lab = torch.logsumexp(theta, dim=-1)
    beta = torch.full((b, n, n), -float("inf"), dtype=theta.dtype)
    idx = torch.arange(n)
    beta[:, idx, idx] = lab[:, idx, idx]
    for w in range(2, n + 1):
        s = torch.arange(n - w + 1)
        e = s + w - 1
        k = s[:, None] + torch.arange(w - 1)[None, :]
        split = torch.logsumexp(beta[:, s[:, None], k] + beta[:, k + 1, e[:, None]],
                                dim=-1)
        beta[:, s, e] = split + lab[:, s, e]
    return beta[:, 0, n - 1]


def pcfg_inside(root, rule, pre):
    """log p(sentence) of a PCFG: root [nt] and rule [nt, S, S] (S = nt +
    pt) log-softmax normalised here, preterminal scores pre [B, n, pt]. The
    binary rules as one matrix product over (left, right) symbol pairs per
    width, in exp space with max shifts (as Torch-Struct does)."""
    b, n, pt = pre.shape
    nt = root.shape[0]
    sym = nt + pt
    root = torch.log_softmax(root, -1)
    rule = torch.log_softmax(rule.reshape(nt, -1), -1)
    rmax = rule.max()
    erule = torch.exp(rule - rmax)
    beta = torch.full((b, n, n, sym), -float("inf"), dtype=pre.dtype)
    idx = torch.arange(n)
    beta[:, idx, idx, nt:] = pre
    for w in range(2, n + 1):
        s = torch.arange(n - w + 1)
        e = s + w - 1
        k = s[:, None] + torch.arange(w - 1)[None, :]
        left, right = beta[:, s[:, None], k], beta[:, k + 1, e[:, None]]
        lm = left.max(-1, keepdim=True).values.clamp(min=-1e30)
        rm = right.max(-1, keepdim=True).values.clamp(min=-1e30)
        outer = torch.exp(left - lm)[..., :, None] * torch.exp(right - rm)[..., None, :]
        shift = (lm + rm)[..., 0]
        m = shift.max(-1, keepdim=True).values
        pair = (outer * torch.exp(shift - m)[..., None, None]).sum(2)
        val = pair.reshape(b, len(s), sym * sym) @ erule.T
        beta[:, s, e, :nt] = torch.log(val) + m + rmax
    return torch.logsumexp(beta[:, 0, n - 1, :nt] + root, -1)


def td_pcfg_inside(root, u, left, right, pre):
    """log p(sentence) of a tensor-decomposition PCFG: p(X -> Y Z) =
    sum_r U[X, r] Left[r, Y] Right[r, Z], each normalised over its last
    axis here; preterminal scores pre [B, n, pt]. Rank space, one width
    at a time: O(n^3 r + n^2 r (nt + pt))."""
    b, n, pt = pre.shape
    nt, r = u.shape
    sym = nt + pt
    root, u = torch.log_softmax(root, -1), torch.log_softmax(u, -1)
    left, right = torch.log_softmax(left, -1), torch.log_softmax(right, -1)
    neg = -float("inf")
    beta = torch.full((b, n, n, sym), neg, dtype=pre.dtype)
    lv = torch.full((b, n, n, r), neg, dtype=pre.dtype)
    rv = torch.full((b, n, n, r), neg, dtype=pre.dtype)
    idx = torch.arange(n)

    def project(s, e):
        cell = beta[:, s, e]  # [B, Sp, sym]
        lv[:, s, e] = torch.logsumexp(left[None, None] + cell[:, :, None, :], -1)
        rv[:, s, e] = torch.logsumexp(right[None, None] + cell[:, :, None, :], -1)
    beta[:, idx, idx, nt:] = pre
    project(idx, idx)
    for w in range(2, n + 1):
        s = torch.arange(n - w + 1)
        e = s + w - 1
        k = s[:, None] + torch.arange(w - 1)[None, :]
        span = torch.logsumexp(lv[:, s[:, None], k] + rv[:, k + 1, e[:, None]], 2)
        beta[:, s, e, :nt] = torch.logsumexp(u[None, None] + span[:, :, None, :], -1)
        project(s, e)
    return torch.logsumexp(beta[:, 0, n - 1, :nt] + root, -1)


def check(binary, path, ref, what):
    """A PyTorch reference agrees with synstruct's log Z, so that both time
    the same thing."""
    run = subprocess.run([binary, "partition", "-f", "jsonl", path],
                         capture_output=True, text=True, check=True)
    ours = [float(l.split('"log_partition":')[1].rstrip("}"))
            for l in run.stdout.splitlines()]
    worst = max(abs(a - b) / max(1.0, abs(b)) for a, b in zip(ours, ref.tolist()))
    if worst > 1e-4:
        sys.exit(f"bench_torch.py: the PyTorch {what} differs from synstruct by {worst:g}")


def has_structure(binary, name):
    run = subprocess.run([binary, "--help"], capture_output=True, text=True)
    return name in run.stdout


def laplacian_logdet(w):
    """log Z of multi-root arborescences rooted at node 0 (Koo et al.)."""
    n = w.shape[-1]
    a = torch.exp(w)
    a = a * (1 - torch.eye(n, dtype=w.dtype))
    a[:, :, 0] = 0
    lap = torch.diag_embed(a.sum(dim=1)) - a
    return torch.linalg.slogdet(lap[:, 1:, 1:])[1]


def line(what, ours, ref, target):
    print(f"{what:<44} {ours * 1000:10.2f} ms {ref * 1000:10.2f} ms "
          f"ratio {ours / ref:6.2f}   (target <= {target})")


# The PyTorch kernels each path is compared with (see above).
CAPABILITY = {"scalar": "default", "avx2": "avx2"}


def main():
    binary, tmp = sys.argv[1], sys.argv[2]
    if len(sys.argv) > 3 and sys.argv[3] == "--section":
        section(binary, tmp, sys.argv[4] or None)
        return
    print(f"{'comparison (one thread)':<44} {'synstruct':>13} {'reference':>13}",
          flush=True)
    for isa in sys.argv[3:] or [""]:
        env = dict(os.environ)
        if isa in CAPABILITY:
            env["ATEN_CPU_CAPABILITY"] = CAPABILITY[isa]
        subprocess.run([sys.executable, __file__, binary, tmp, "--section",
                        isa], env=env, check=True)


def section(binary, tmp, isa):
    """The lines of one instruction set (None: synstruct's own pick)."""
    chain = os.path.join(tmp, "torch-chain.h5")
    trees = os.path.join(tmp, "torch-trees.h5")
    out = os.path.join(tmp, "torch-out.h5")
    rng = np.random.default_rng(1)
    theta = rng.uniform(-3, 3, size=(64, 256, 32, 32)).astype(np.float32)
    with h5py.File(chain, "w") as f:
        f.attrs["structure"] = "linear-chain"
        f["log_potentials"] = theta
    w = rng.uniform(-3, 3, size=(32, 48, 48))
    with h5py.File(trees, "w") as f:
        f.attrs["structure"] = "spanning-tree"
        f["log_potentials"] = w
    projective = os.path.join(tmp, "torch-projective.h5")
    wp = rng.uniform(-3, 3, size=(32, 128, 128)).astype(np.float32)
    with h5py.File(projective, "w") as f:
        f.attrs["structure"] = "spanning-tree"
        f.attrs["projective"] = 1
        f["log_potentials"] = wp

    t = torch.from_numpy(theta)

    def forward():
        chain_forward(t)

    def forward_backward():
        x = t.clone().requires_grad_(True)
        chain_forward(x).sum().backward()

    def read():
        with h5py.File(chain, "r") as f:
            f["log_potentials"][...]

    def read_write():
        with h5py.File(chain, "r") as f:
            x = f["log_potentials"][...]
        with h5py.File(out, "w") as f:
            f["marginals"] = x
    wt = torch.from_numpy(w)
    wpt = torch.from_numpy(wp)
    check_eisner(binary, projective, out, wp)

    families = []  # (label, file, reference function)
    if has_structure(binary, "semi-markov"):
        sm = os.path.join(tmp, "torch-semi-markov.h5")
        x = rng.uniform(-3, 3, size=(16, 64, 8, 16, 16)).astype(np.float32)
        with h5py.File(sm, "w") as f:
            f.attrs["structure"] = "semi-markov"
            f["log_potentials"] = x
        xt = torch.from_numpy(x)
        check(binary, sm, semi_markov_forward(xt.double()), "semi-Markov")
        families.append(("semi-markov log Z vs PyTorch loop", sm,
                         lambda: semi_markov_forward(xt)))
    if has_structure(binary, "ctc"):
        ctc = os.path.join(tmp, "torch-ctc.h5")
        logits = rng.normal(size=(32, 200, 64)).astype(np.float32)
        labels = rng.integers(1, 64, size=(32, 40)).astype(np.int32)
        with h5py.File(ctc, "w") as f:
            f.attrs["structure"] = "ctc"
            f["log_potentials"] = logits
            f["labels"] = labels
        lt, yt = torch.from_numpy(logits), torch.from_numpy(labels).long()
        check(binary, ctc, ctc_forward(lt.double(), yt), "CTC")
        families.append(("ctc log Z vs PyTorch loop", ctc,
                         lambda: ctc_forward(lt, yt)))
    if has_structure(binary, "alignment"):
        al = os.path.join(tmp, "torch-alignment.h5")
        x = rng.uniform(-3, 3, size=(32, 128, 128)).astype(np.float32)
        with h5py.File(al, "w") as f:
            f.attrs["structure"] = "alignment"
            f.attrs["alignment_type"] = "monotone-many-to-many"
            f["log_potentials"] = x
        xt2 = torch.from_numpy(x)
        check(binary, al, alignment_forward(xt2.double()), "alignment")
        families.append(("many-to-many alignment log Z vs PyTorch", al,
                         lambda: alignment_forward(xt2)))

    if has_structure(binary, "tree-crf"):
        tc = os.path.join(tmp, "torch-tree-crf.h5")
        x = rng.uniform(-3, 3, size=(16, 40, 40, 16)).astype(np.float32)
        with h5py.File(tc, "w") as f:
            f.attrs["structure"] = "tree-crf"
            f["log_potentials"] = x
        xt3 = torch.from_numpy(x)
        check(binary, tc, tree_crf_inside(xt3.double()), "tree CRF")
        families.append(("tree-crf log Z vs PyTorch CKY", tc,
                         lambda: tree_crf_inside(xt3)))
    if has_structure(binary, "pcfg"):
        pc = os.path.join(tmp, "torch-pcfg.h5")
        root = rng.normal(size=30).astype(np.float32)
        rule = rng.normal(size=(30, 90, 90)).astype(np.float32)
        pre = rng.normal(size=(16, 30, 60)).astype(np.float32)
        with h5py.File(pc, "w") as f:
            f.attrs["structure"] = "pcfg"
            f["root"], f["rule"], f["preterminal_scores"] = root, rule, pre
        args = [torch.from_numpy(a) for a in (root, rule, pre)]
        check(binary, pc, pcfg_inside(*[a.double() for a in args]), "PCFG")
        families.append(("pcfg log Z vs PyTorch CKY (matmul)", pc,
                         lambda: pcfg_inside(*args)))

    if has_structure(binary, "td-pcfg"):
        td = os.path.join(tmp, "torch-td-pcfg.h5")
        params = [rng.normal(size=sh).astype(np.float32)
                  for sh in ((30,), (30, 64), (64, 90), (64, 90), (16, 30, 60))]
        with h5py.File(td, "w") as f:
            f.attrs["structure"] = "td-pcfg"
            for name, a in zip(("root", "nt_to_rank", "rank_to_left_nt",
                                "rank_to_right_nt", "preterminal_scores"), params):
                f[name] = a
        targs = [torch.from_numpy(a) for a in params]
        check(binary, td, td_pcfg_inside(*[a.double() for a in targs]), "TD-PCFG")
        families.append(("td-pcfg log Z vs PyTorch rank-space CKY", td,
                         lambda: td_pcfg_inside(*targs)))

    tag = f" [{isa}]" if isa else ""
    partition, marginals = ["partition", "-o", out], ["marginals", "-o", out]
    forward_s, part_c, _ = paired(forward, binary, partition + [chain], isa)
    line("chain log Z vs PyTorch forward loop" + tag, part_c, forward_s, 0.25)
    backward_s, marg_c, _ = paired(forward_backward, binary,
                                   marginals + [chain], isa)
    line("chain marginals vs PyTorch autograd" + tag, marg_c, backward_s, 0.25)
    read_s, _, part_w = paired(read, binary, partition + [chain], isa)
    line("command partition vs reading the data" + tag, part_w, read_s, 1.5)
    read_write_s, _, marg_w = paired(read_write, binary, marginals + [chain],
                                     isa)
    line("command marginals vs read + write" + tag, marg_w, read_write_s, 2)
    slogdet_s, np_c, _ = paired(lambda: laplacian_logdet(wt), binary,
                                partition + [trees], isa)
    line("non-projective log Z vs slogdet" + tag, np_c, slogdet_s, 0.5)
    # issue 8: one sample per tree against the marginals, both ours
    for flags, kind in (([], "multi-root"), (["--single-root"], "single-root")):
        npm, nps = [], []
        for _ in range(REPEAT):
            npm.append(synstruct(binary, marginals + flags + [trees], isa)[0])
            nps.append(synstruct(binary, ["sample", "-o", out] + flags + [trees],
                                 isa)[0])
        line(f"non-projective sample vs marginals, {kind}" + tag,
             min(nps), min(npm), 3)
    eisner_s, ei_c, _ = paired(lambda: eisner(wpt), binary,
                               partition + [projective], isa)
    line("projective log Z vs PyTorch Eisner" + tag, ei_c, eisner_s, "-")
    for label, path, reference in families:
        ref_s, ours, _ = paired(reference, binary, partition + [path], isa)
        line(label + tag, ours, ref_s, "-")

if __name__ == "__main__":
    main()
