"""What the official SAM 2.1 benchmarks share (official_sam2_cpu_bench.py, official_sam2_gpu_bench.py):
the official code (facebookresearch/sam2 at the golden script's COMMIT, with its stand-ins for
hydra, iopath, tqdm and torchvision.transforms), a published configuration built from its YAML as
build_sam2 / build_sam2_video_predictor do, our `photosynth-cli init-checkpoint` weights (the same
key names as the published state dicts) loaded into it, synthetic inputs, and the timers.

Not a program: the two benchmarks import it. Works with Debian's torch 1.13 (math attention in
place of F.scaled_dot_product_attention, as the golden script) and with PyTorch 2.x.
"""
import json
import os
import statistics
import struct
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "golden"))
import sam2_golden as golden  # noqa: E402  (COMMIT, load_official, read_config, instantiate)

# (patch embedding width, Hiera blocks) -> the YAML's letter: how a checkpoint names its layout.
LAYOUTS = {(96, 12): "t", (96, 16): "s", (112, 24): "b+", (144, 48): "l"}
SAFETENSORS_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
                      "F64": torch.float64, "I64": torch.int64, "I32": torch.int32}


def load_official(src):
    """`src`: a plain checkout that holds sam2/ (e.g. `git archive` of COMMIT, for a machine
    without the mirror), or a clone / bare mirror that holds COMMIT. Returns the source root."""
    if os.path.isfile(os.path.join(src, "sam2", "sam2_video_predictor.py")):
        # The stand-ins after the real packages: PyTorch 2's compiler may import torchvision.
        sys.path.insert(0, src)
        sys.path.append(os.path.join(HERE, "golden", "standins"))
        if not hasattr(F, "scaled_dot_product_attention"):  # torch 1.13
            F.scaled_dot_product_attention = golden.sdpa_math
        import sam2.sam2_image_predictor  # noqa: F401
        import sam2.sam2_video_predictor  # noqa: F401
        return src
    return golden.load_official(src)


def read_safetensors(path):
    """The safetensors format (8-byte little-endian header length, JSON header, raw data),
    read here so that no safetensors package is needed."""
    with open(path, "rb") as f:
        header_len = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(header_len))
        data = bytearray(f.read())
    tensors = {}
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        dtype = SAFETENSORS_DTYPES[entry["dtype"]]
        flat = (torch.frombuffer(data, dtype=dtype, offset=begin, count=(end - begin) //
                                 torch.tensor([], dtype=dtype).element_size())
                if end > begin else torch.empty(0, dtype=dtype))
        tensors[key] = flat.reshape(entry["shape"]).clone()
    return tensors


def layout_letter(state):
    width = state["image_encoder.trunk.patch_embed.proj.weight"].shape[0]
    blocks = len({k.split(".")[3] for k in state if k.startswith("image_encoder.trunk.blocks.")})
    if (width, blocks) not in LAYOUTS:
        raise SystemExit("not a published SAM 2.1 layout: patch width %d, %d Hiera blocks"
                         % (width, blocks))
    return LAYOUTS[(width, blocks)]


def build(root, checkpoint, device, video=False, vos_optimized=False):
    """build_sam2 (image) or build_sam2_video_predictor (video; vos_optimized: its
    SAM2VideoPredictorVOS with compile_image_encoder) with apply_postprocessing, on `checkpoint`'s
    weights, eval, on `device`. Returns (model, the YAML letter)."""
    state = read_safetensors(checkpoint)
    letter = layout_letter(state)
    overrides = dict(golden.VIDEO_OVERRIDES if video else golden.IMAGE_OVERRIDES)
    if vos_optimized:
        overrides.update(_target_="sam2.sam2_video_predictor.SAM2VideoPredictorVOS",
                         compile_image_encoder=True)
    model = golden.instantiate(golden.with_values(golden.read_config(root, letter), overrides))
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise SystemExit("%s: keys differ from the official model: missing %s, unexpected %s"
                         % (checkpoint, missing[:5], unexpected[:5]))
    return model.to(device).eval(), letter


def synthetic_image(size, seed=7):
    return np.random.default_rng(seed).integers(0, 256, size=(size, size, 3), dtype=np.uint8)


def write_frames(folder, count, size, seed=11):
    """`count` JPEG frames `<index>.jpg` (the folder layout SAM2VideoPredictor.init_state reads):
    a seeded image shifted a few pixels a frame, so that consecutive frames differ."""
    from PIL import Image
    base = synthetic_image(size + 4 * count, seed)
    for t in range(count):
        frame = base[4 * t: 4 * t + size, 4 * t: 4 * t + size]
        Image.fromarray(np.ascontiguousarray(frame)).save(
            os.path.join(folder, "%05d.jpg" % t), quality=90)
    return folder


def clock(device):
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter()


def summary(samples_ms):
    return {"p50_ms": statistics.median(samples_ms), "n": len(samples_ms),
            "samples_ms": [round(s, 3) for s in samples_ms]}


def time_image(predictor, image, device, warmup, iterations, click=True):
    """SAM2ImagePredictor.set_image (transforms, image encoder, feature maps) and one positive
    click -> 3 masks at the image size on the host (predict returns numpy), medians."""
    encode, clicks = [], []
    rng = np.random.default_rng(3)
    h, w = image.shape[:2]
    for i in range(warmup + iterations):
        start = clock(device)
        predictor.set_image(image)
        encoded = clock(device)
        if click:
            point = np.array([[rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h]])
            masks, _, _ = predictor.predict(point_coords=point, point_labels=np.array([1]),
                                            multimask_output=True)
            assert masks.shape == (3, h, w)
        clicked = clock(device)
        if i >= warmup:
            encode.append((encoded - start) * 1e3)
            clicks.append((clicked - encoded) * 1e3)
    out = {"set_image": summary(encode)}
    if click:
        out["click_to_masks_host"] = summary(clicks)
    return out


def time_propagation(predictor, frames_dir, size, objects, device, warmup_frames):
    """SAM2VideoPredictor: init_state on the folder, one positive click per object on frame 0
    (objects at different places), then propagate_in_video forward; each tracked frame timed from
    the previous yield to its masks on the host (the first `warmup_frames` tracked ones dropped).
    Conditioning frame 0 (consolidated in the preflight) is not a tracked frame."""
    state = predictor.init_state(video_path=frames_dir)
    for obj in range(objects):
        x = size * (0.25 + 0.5 * ((obj * 0.37) % 1.0))
        y = size * (0.3 + 0.4 * ((obj * 0.61) % 1.0))
        predictor.add_new_points_or_box(state, frame_idx=0, obj_id=obj + 1,
                                        points=np.array([[x, y]], dtype=np.float32),
                                        labels=np.array([1], dtype=np.int32))
    per_frame = []
    last = clock(device)
    for frame_idx, obj_ids, masks in predictor.propagate_in_video(state):
        host = (masks > 0.0).cpu()  # what a caller does with each frame's masks
        now = clock(device)
        assert host.shape[0] == objects
        if frame_idx > warmup_frames:
            per_frame.append((now - last) * 1e3)
        last = now
    predictor.reset_state(state)
    return summary(per_frame)


def temporary_folder(prefix):
    return tempfile.mkdtemp(prefix=prefix)
