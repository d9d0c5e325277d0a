"""What every golden generator here writes and measures the same way: safetensors files (the
format the C++ tests read through io::load_checkpoint) and the deviation of two tensors."""
import json
import struct

import torch

_CODES = {torch.float32: "F32", torch.float64: "F64", torch.bfloat16: "BF16", torch.uint8: "U8",
          torch.int32: "I32", torch.int64: "I64"}


def save_safetensors(path, tensors, metadata=None):
    """tensors: name -> tensor, written in the given order; metadata: extra "__metadata__" strings
    (format "pt" added, as safetensors.torch does). bfloat16 goes through its int16 bits, which
    numpy cannot hold as floats."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        data = (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes()
        header[name] = {"dtype": _CODES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = dict(metadata or {}, format="pt")
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def stats(a, b):
    """Largest and mean absolute difference, in float64."""
    d = (a.double() - b.double()).abs()
    return {"max": float(d.max()), "mean": float(d.mean())}
