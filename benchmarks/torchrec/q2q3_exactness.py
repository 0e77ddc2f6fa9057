"""/tmp/trvenv/bin/python benchmarks/torchrec/q2q3_exactness.py OPT MODE [EPS]

How exact the fused optimizer of a row-wise sharded TorchRec table is (CPU, 2 processes,
gloo): a 1000x16 table ``t`` (``sharded.build_sharded_ec``, lr 0.1, fused ``eps`` = ``EPS``
or fbgemm's default), 3 steps of 64 ids per rank drawn from 100 ids spread over both shards
(duplicates within a batch, overlap between ranks), loss = sum((rows - target)^2). The
whole table is gathered before and after and compared, on rank 0, with single-process
references: a manual dense update (gradients of the 2 ranks averaged or summed; with two
lookups, one update of the summed gradient or two updates in either order), and for
``EXACT_ADAGRAD once`` also ``nn.Embedding(sparse=True)`` + ``torch.optim.Adagrad`` on the
mean (or sum) of the 2 ranks' losses. One line per reference: max|diff| and whether it is
within 1e-5.

``OPT``: ``EXACT_ADAGRAD``, ``EXACT_SGD`` or ``EXACT_ROWWISE_ADAGRAD``. ``MODE``:
``once``: one lookup per step. ``twice``: two separate forward calls of the sharded module
per step (positives, then negatives), one backward of the summed loss. ``twofeat``: one
forward call with two features (pos, neg) that share the table.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch
from sharded import build_sharded_ec, gather_full, kjt, run

N, D, LR, STEPS, B = 1000, 16, 0.1, 3, 64


def batch(rank: int, step: int, which: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Ids and targets of one lookup (``which``: 0 positives, 1 negatives) of a rank's step."""
    g = torch.Generator().manual_seed(1000 * rank + 10 * step + which)
    # 100 distinct ids over both shards: duplicates within a batch, overlap between ranks
    ids = torch.randint(0, 100, (B,), generator=g) * 10
    tgt = torch.randn(B, D, generator=g)
    return ids, tgt


def f(rows: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
    """The loss of one lookup: sum((rows - target)^2)."""
    return ((rows - tgt) ** 2).sum()


def ref_grads(w: torch.Tensor, world: int, step: int,
              mode: str) -> list[list[torch.Tensor]]:
    """Dense gradients at weights ``w``: ``grads[rank][part]``, one part per lookup."""
    out = []
    for r in range(world):
        parts = []
        for which in (0,) if mode == "once" else (0, 1):
            ids, tgt = batch(r, step, which)
            wv = w.clone().requires_grad_(True)
            f(wv[ids], tgt).backward()
            parts.append(wv.grad)
        out.append(parts)
    return out


def ref_run(w0: torch.Tensor, world: int, mode: str, opt: str, eps: float, reduce: str,
            order: str) -> torch.Tensor:
    """Manual dense reference after ``STEPS`` steps.

    ``reduce``: the ranks' gradients ``mean`` or ``sum``. ``order``: ``one`` (a single update
    with the summed gradient), ``posneg`` or ``negpos`` (two updates, one per lookup).
    """
    w = w0.clone()
    s = torch.zeros_like(w)  # Adagrad sum (elementwise; row-wise in column 0)
    scale = 1.0 / world if reduce == "mean" else 1.0
    for step in range(STEPS):
        gr = ref_grads(w, world, step, mode)
        nparts = len(gr[0])
        per_part = [sum(gr[r][p] for r in range(world)) * scale for p in range(nparts)]
        if order == "one":
            seq = [sum(per_part)]
        elif order == "posneg":
            seq = per_part
        else:
            seq = per_part[::-1]
        for g in seq:
            if opt == "EXACT_ADAGRAD":
                s += g * g
                w -= LR * g / (s.sqrt() + eps)
            elif opt == "EXACT_SGD":
                w -= LR * g
            elif opt == "EXACT_ROWWISE_ADAGRAD":
                touched = g.abs().sum(1) > 0
                s[:, 0] += torch.where(touched, (g * g).mean(1), 0.0)
                w -= torch.where(touched[:, None], LR * g / (s[:, :1].sqrt() + eps), 0.0)
    return w


def torch_adagrad_ref(w0: torch.Tensor, world: int, eps: float, reduce: str) -> torch.Tensor:
    """Reference with torch: ``nn.Embedding(sparse=True)`` + ``torch.optim.Adagrad`` on the
    ranks' losses combined as DDP does (``mean``) or summed."""
    emb = torch.nn.Embedding(N, D, sparse=True)
    with torch.no_grad():
        emb.weight.copy_(w0)
    o = torch.optim.Adagrad(emb.parameters(), lr=LR, eps=eps)
    for step in range(STEPS):
        o.zero_grad()
        losses = [f(emb(batch(r, step, 0)[0]), batch(r, step, 0)[1]) for r in range(world)]
        loss = sum(losses) / (world if reduce == "mean" else 1)
        loss.backward()
        o.step()
    return emb.weight.detach()


def diff(w: torch.Tensor, r: torch.Tensor) -> str:
    """max|w - r| and whether it is within 1e-5."""
    return (f"max|diff|={(w - r).abs().max():.3e} "
            f"match(1e-5)={torch.allclose(w, r, atol=1e-5, rtol=0)}")


def body(rank: int, world: int, opt: str, mode: str, eps: float | None) -> None:
    """One rank: trains ``STEPS`` steps; rank 0 prints the comparisons with the references."""
    feats = ("pos", "neg") if mode == "twofeat" else ("f",)
    model, _ = build_sharded_ec(opt, LR, N, D, features=feats, eps=eps)
    w0 = gather_full(model, N, D)
    for step in range(STEPS):
        if mode == "once":
            ids, tgt = batch(rank, step, 0)
            loss = f(model(kjt({"f": ids}))["f"].values(), tgt)
        elif mode == "twice":
            (ip, tp), (ineg, tn) = batch(rank, step, 0), batch(rank, step, 1)
            lp = f(model(kjt({"f": ip}))["f"].values(), tp)
            ln = f(model(kjt({"f": ineg}))["f"].values(), tn)
            loss = lp + ln
        else:
            (ip, tp), (ineg, tn) = batch(rank, step, 0), batch(rank, step, 1)
            out = model(kjt({"pos": ip, "neg": ineg}))
            loss = f(out["pos"].values(), tp) + f(out["neg"].values(), tn)
        loss.backward()
    w = gather_full(model, N, D)
    if rank != 0:
        return
    e = 1e-8 if eps is None else eps
    print(f"== opt={opt} mode={mode} fused eps={eps} (None = fbgemm default)  "
          f"|W3-W0| max={((w - w0).abs().max()):.4g}")
    rmode = "once" if mode == "once" else "twice"
    for reduce in ("mean", "sum"):
        for order in ("one",) if rmode == "once" else ("one", "posneg", "negpos"):
            for ee in sorted({e, 1e-10, 1e-8}):
                r = ref_run(w0, world, rmode, opt, ee, reduce, order)
                print(f"  ref reduce={reduce:4s} order={order:6s} eps={ee:g}: {diff(w, r)}")
    if opt == "EXACT_ADAGRAD" and mode == "once":
        for reduce in ("mean", "sum"):
            for ee in (1e-10, 1e-8):
                r = torch_adagrad_ref(w0, world, ee, reduce)
                print(f"  torch.optim.Adagrad(eps={ee:g}) nn.Embedding(sparse=True), "
                      f"grads {reduce}: {diff(w, r)}")
        # sanity: the manual dense reference equals torch Adagrad
        manual = ref_run(w0, world, "once", opt, 1e-10, "mean", "one")
        torch_ref = torch_adagrad_ref(w0, world, 1e-10, "mean")
        print("  (manual ref vs torch Adagrad, mean, eps=1e-10):",
              f"{(manual - torch_ref).abs().max():.3e}")
    sys.stdout.flush()


def main() -> None:
    """Parses ``OPT MODE [EPS]`` and runs ``body`` on 2 spawned ranks."""
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    opt, mode = sys.argv[1], sys.argv[2]
    eps = float(sys.argv[3]) if len(sys.argv) > 3 else None
    run(body, 2, opt, mode, eps)


if __name__ == "__main__":
    main()
