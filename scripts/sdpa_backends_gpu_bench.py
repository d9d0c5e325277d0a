#!/usr/bin/env python3
"""PyTorch SDPA backends on the shapes our GPU models attend with (GPU machine, PyTorch 2.x):
SAM 2 memory attention's cross attention (4096 queries x 7 memories + pointers, one 256-wide
head) with 256-wide and 64-wide values, 1 and 3 objects, in one call and split per memory frame; Swin-L shifted windows with a broadcast
position bias against a full per-window bias, and the add that makes the latter. Prints ms."""
import torch, time
from torch.nn.attention import sdpa_kernel, SDPBackend
dev = "cuda"
def t(fn, n=30):
    for _ in range(5): fn()
    torch.cuda.synchronize(); s = time.perf_counter()
    for _ in range(n): fn()
    torch.cuda.synchronize(); return (time.perf_counter() - s) / n * 1e3
print(torch.__version__, torch.cuda.get_device_name())
for B in (1, 3):
    q = torch.randn(B, 1, 4096, 256, device=dev, dtype=torch.bfloat16)
    k = torch.randn(B, 1, 7 * 4096 + 64, 256, device=dev, dtype=torch.bfloat16)
    for vd in (256, 64):
        v = torch.randn(B, 1, k.shape[2], vd, device=dev, dtype=torch.bfloat16)
        for name, be in [("default", None), ("flash", SDPBackend.FLASH_ATTENTION),
                         ("efficient", SDPBackend.EFFICIENT_ATTENTION), ("cudnn", SDPBackend.CUDNN_ATTENTION)]:
            try:
                if be is None: ms = t(lambda: torch.nn.functional.scaled_dot_product_attention(q, k, v))
                else:
                    with sdpa_kernel([be]): ms = t(lambda: torch.nn.functional.scaled_dot_product_attention(q, k, v))
                print("cross B=%d v=%d %-9s %.3f ms" % (B, vd, name, ms))
            except Exception as e:
                print("cross B=%d v=%d %-9s fails: %s" % (B, vd, name, str(e).split("\n")[0][:100]))
# One object's keys split per memory frame (memory_attention.cpp's attend_per_frame): the frames
# as heads of one cuDNN call (the queries copied per frame), the pointers apart, merged by the
# parts' log-sum-exps; against one call over all keys.
A = torch.ops.aten
def split_per_frame(q, k, v, M=7, N=4096):
    B = q.shape[0]
    o, l = A._scaled_dot_product_cudnn_attention(q.expand(B, M, N, q.shape[-1]).contiguous(),
        k[:, 0, :M * N].view(B, M, N, -1), v[:, 0, :M * N].view(B, M, N, -1), None, True)[:2]
    s = torch.matmul(q.float(), k[:, :, M * N:].float().transpose(-2, -1)) / q.shape[-1] ** 0.5
    lp = torch.logsumexp(s, -1)
    op = torch.matmul(torch.exp(s - lp.unsqueeze(-1)), v[:, :, M * N:].float())
    outs = torch.cat([o.float(), op], 1); lses = torch.cat([l.view(B, M, N).float(), lp], 1)
    return (outs * torch.softmax(lses, 1).unsqueeze(-1)).sum(1, keepdim=True).to(q.dtype)
for B in (1, 3):
    q = torch.randn(B, 1, 4096, 256, device=dev, dtype=torch.bfloat16)
    k = torch.randn(B, 1, 7 * 4096 + 64, 256, device=dev, dtype=torch.bfloat16)
    for vd in (256, 64):
        v = torch.randn(B, 1, k.shape[2], vd, device=dev, dtype=torch.bfloat16)
        ref = torch.nn.functional.scaled_dot_product_attention(q.double(), k.double(), v.double())
        err = (split_per_frame(q, k, v).double() - ref).abs().max().item()
        print("cross B=%d v=%d cudnn split per frame %.3f ms (max |diff| %.1e)" % (B, vd, t(lambda: split_per_frame(q, k, v)), err))
def backends(label, q, k, v):
    for name, be in [("default", None), ("flash", SDPBackend.FLASH_ATTENTION), ("cudnn", SDPBackend.CUDNN_ATTENTION)]:
        try:
            if be is None: ms = t(lambda: torch.nn.functional.scaled_dot_product_attention(q, k, v))
            else:
                with sdpa_kernel([be]): ms = t(lambda: torch.nn.functional.scaled_dot_product_attention(q, k, v))
            print("%s %-9s %.3f ms" % (label, name, ms))
        except Exception as e:
            print("%s %-9s fails: %s" % (label, name, str(e).split("\n")[0][:100]))
# Fixed-shape attentions: SAM 2 memory self-attention, Hiera's global stages (L: 8 heads of 72,
# B+: 8 of 56), SAM ViT-B's global blocks (12 of 64); 1024² inputs.
for label, (h, n, d) in [("mem self 1x256", (1, 4096, 256)), ("hiera-L glob 8x72", (8, 4096, 72)),
                         ("hiera-B+ glob 8x56", (8, 4096, 56)), ("vit-b glob 12x64", (12, 4096, 64))]:
    x = torch.randn(1, h, n, d, device=dev, dtype=torch.bfloat16)
    backends(label, x, x.clone(), x.clone())
# What a new key count costs the first time (cuDNN builds a plan per layout; flash has none).
q = torch.randn(1, 1, 4096, 256, device=dev, dtype=torch.bfloat16)
for name, be in [("flash", SDPBackend.FLASH_ATTENTION), ("cudnn", SDPBackend.CUDNN_ATTENTION)]:
    firsts = []
    for m in range(1, 6):
        k = torch.randn(1, 1, m * 4096 + (4 + 8 * (be == SDPBackend.CUDNN_ATTENTION)) * m, 256, device=dev, dtype=torch.bfloat16)
        torch.cuda.synchronize(); s = time.perf_counter()
        with sdpa_kernel([be]): torch.nn.functional.scaled_dot_product_attention(q, k, k)
        torch.cuda.synchronize(); firsts.append((time.perf_counter() - s) * 1e3)
    print("new key count, first call %-6s %s ms" % (name, " ".join("%.1f" % f for f in firsts)))
# Swin shifted-bias cost:
for (nw, h, n) in [(484, 6, 144), (36, 24, 144)]:
    q = torch.randn(nw, h, n, 32, device=dev, dtype=torch.bfloat16)
    pos = torch.randn(1, h, n, n, device=dev, dtype=torch.bfloat16)
    full = torch.randn(nw, h, n, n, device=dev, dtype=torch.bfloat16)
    print("swin nw=%d pos-bias %.3f ms, full-bias %.3f ms, add %.3f ms" % (nw,
          t(lambda: torch.nn.functional.scaled_dot_product_attention(q, q, q, pos)),
          t(lambda: torch.nn.functional.scaled_dot_product_attention(q, q, q, full)),
          t(lambda: pos + full)))
