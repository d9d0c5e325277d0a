#!/usr/bin/python3
"""Golden data for SAM 2.1 (facebookresearch/sam2): image predictor, video predictor, layouts.

Builds the official SAM2Base / SAM2VideoPredictor from the parsed sam2.1_hiera_t.yaml with only
widths, depths, window sizes and the image size changed (the dict below), and the overrides that
build_sam2 / build_sam2_video_predictor add (apply_postprocessing=True); random weights with fixed
seeds, every zero- or near-zero-initialised parameter re-randomised; eval mode; and runs
  * SAM2ImagePredictor.set_image + predict on one image with seven prompts,
  * SAM2VideoPredictor.init_state on a folder of JPEG frames, clicks, a box, a mask, an empty
    mask, a correction click, and propagation forward, backward and forward again (the one
    workaround: the memory cast to the model's dtype, upstream bug facebookresearch/sam2#308),
in float32 (the golden), float64 and bfloat16 (to measure tolerances), and writes tests/data/sam2/.
It also builds the four published sam2.1 configurations at full size (not run) for their key
layouts and parameter counts. Usage (Debian's python3: torch 1.13 CPU, numpy, Pillow, PyYAML;
hydra, iopath, tqdm and torchvision.transforms come from scripts/golden/standins):

  nice /usr/bin/python3 scripts/golden/sam2_golden.py --sam2 SAM2_CLONE --out tests/data/sam2 \
      [--parts image,video,layouts]

  SAM2_CLONE: a clone (or bare mirror) of github.com/facebookresearch/sam2 that holds the COMMIT
  named here.
"""
import argparse
import copy
import importlib
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import types
import warnings

import numpy as np
import torch
import torch.nn.functional as F
import yaml
from PIL import Image

from golden_io import save_safetensors, stats

COMMIT = "2b90b9f5ceec907a1c18123530e92e794ad901a4"
SEED = 20261206
IMAGE_SIZE = 256  # published 1024; stride-16 map 16x16, low-res masks 64x64
# Paths into sam2.1_hiera_t.yaml's `model` and the tiny values (published values in comments).
TINY = {
    "image_size": IMAGE_SIZE,  # 1024
    "image_encoder.trunk.embed_dim": 8,  # 96 (stage widths 8, 16, 32, 64; heads 1, 2, 4, 8)
    "image_encoder.trunk.stages": [1, 2, 4, 2],  # [1, 2, 7, 2]
    "image_encoder.trunk.global_att_blocks": [4, 6],  # [5, 7, 9]
    # Hiera's default window_spec (8, 4, 14, 7) on maps 256, 128, 64, 32; here maps 64, 32, 16, 8:
    # the windows of stages 3 and 4 still do not divide their maps (padding, as at full size).
    "image_encoder.trunk.window_spec": [8, 4, 6, 3],
    "image_encoder.neck.d_model": 32,  # 256
    "image_encoder.neck.backbone_channel_list": [64, 32, 16, 8],  # [768, 384, 192, 96]
    "image_encoder.neck.position_encoding.num_pos_feats": 32,  # 256
    "memory_attention.d_model": 32,
    "memory_attention.num_layers": 2,  # 4
    "memory_attention.layer.d_model": 32,
    "memory_attention.layer.dim_feedforward": 64,  # 2048
    "memory_attention.layer.self_attention.embedding_dim": 32,
    "memory_attention.layer.self_attention.feat_sizes": [16, 16],  # [64, 64]
    "memory_attention.layer.cross_attention.embedding_dim": 32,
    "memory_attention.layer.cross_attention.feat_sizes": [16, 16],
    "memory_attention.layer.cross_attention.kv_in_dim": 8,  # 64
    "memory_encoder.out_dim": 8,  # 64 (mem_dim; hidden 32 / 8 = 4 pointer tokens, as 256 / 64)
    "memory_encoder.in_dim": 32,  # default 256
    "memory_encoder.position_encoding.num_pos_feats": 8,  # 64
    "memory_encoder.mask_downsampler.embed_dim": 32,  # default 256
    "memory_encoder.fuser.layer.dim": 32,  # 256
}
# build_sam2(apply_postprocessing=True) and build_sam2_video_predictor's hydra overrides.
IMAGE_OVERRIDES = {
    "sam_mask_decoder_extra_args": {"dynamic_multimask_via_stability": True,
                                    "dynamic_multimask_stability_delta": 0.05,
                                    "dynamic_multimask_stability_thresh": 0.98}}
VIDEO_OVERRIDES = dict(IMAGE_OVERRIDES, _target_="sam2.sam2_video_predictor.SAM2VideoPredictor",
                       binarize_mask_from_pts_for_mem_enc=True, fill_hole_area=8)
ARCHS = {"tiny": "t", "small": "s", "base_plus": "b+", "large": "l"}
HYPERNET_GAIN = 30.0  # the hypernetworks' last layer, so that mask logits reach about +-10
# Token 0 (the single-mask output) gets less: its stability score (the share of low-res logits
# outside +-0.05) then lies between 0.95 and 0.97 on every single-mask prompt, clearly under the
# 0.98 threshold, so dynamic_multimask_via_stability falls back to the best multimask output (at
# the full gain it sat at 0.980-0.992, within a few pixels of the threshold).
TOKEN0_GAIN = 10.5
# The object-score MLP's last layer: scaled and shifted so that the object scores are clearly
# positive (random weights gave -0.2, which would blank every video mask with NO_OBJ_SCORE).
OBJ_SCORE_GAIN, OBJ_SCORE_SHIFT = 30.0, 10.0

# The image case (points and boxes in original-image pixels, x then y).
IMAGE_CROP = (40, 340, 20, 260)  # astronaut_crop.png rows 40:340, columns 20:260 -> 240x300 (WxH)
POINT, NEG = [120.0, 110.0], [60.0, 250.0]
BOX = [40.0, 30.0, 200.0, 220.0]
PROMPTS = [
    {"points": [POINT + [1]], "multimask": True},
    {"points": [POINT + [1], NEG + [0]], "multimask": False},
    {"box": BOX, "multimask": False},
    {"box": BOX, "points": [POINT + [1]], "multimask": False},
    {"points": [POINT + [1]], "mask_from": 0, "multimask": False},
    {"points": [POINT + [1]], "multimask": False},
    {"points": [POINT + [1], NEG + [0]], "multimask": True},
]
# The video case.
VIDEO_W, VIDEO_H, VIDEO_FRAMES = 128, 96, 8


def sdpa_math(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
    """PyTorch 2's _scaled_dot_product_attention_math (eval, no mask: what sam2 calls), as
    birefnet_golden.py: q and k each scaled by sqrt(scale), softmax(q @ k^T) @ v."""
    assert attn_mask is None and not is_causal and dropout_p == 0.0
    factor = math.sqrt(scale if scale is not None else 1.0 / math.sqrt(query.shape[-1]))
    attn = (query * factor) @ (key.transpose(-2, -1) * factor)
    return torch.softmax(attn, dim=-1) @ value


def load_official(repo):
    root = tempfile.mkdtemp(prefix="sam2_")
    names = subprocess.check_output(["git", "-C", repo, "ls-tree", "-r", "--name-only", COMMIT,
                                     "sam2/"]).decode().split()
    for name in names:
        if not name.endswith((".py", ".yaml")):
            continue
        os.makedirs(os.path.join(root, os.path.dirname(name)), exist_ok=True)
        with open(os.path.join(root, name), "wb") as f:
            f.write(subprocess.check_output(["git", "-C", repo, "show", COMMIT + ":" + name]))
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:0] = [os.path.join(here, "standins"), root]
    if not hasattr(F, "scaled_dot_product_attention"):  # torch 1.13
        F.scaled_dot_product_attention = sdpa_math
    importlib.import_module("sam2.sam2_image_predictor")
    importlib.import_module("sam2.sam2_video_predictor")
    return root


def read_config(root, arch_letter):
    """The `model` node of sam2.1_hiera_<arch>.yaml. PyYAML reads `1e-6` as a string (YAML 1.1);
    OmegaConf reads it as a float, so such strings become floats."""
    with open(os.path.join(root, "sam2/configs/sam2.1/sam2.1_hiera_%s.yaml" % arch_letter)) as f:
        cfg = yaml.safe_load(f)["model"]

    def fix(node):
        if isinstance(node, dict):
            return {k: fix(v) for k, v in node.items()}
        if isinstance(node, list):
            return [fix(v) for v in node]
        if isinstance(node, str) and re.fullmatch(r"[-+]?\d+(\.\d*)?[eE][-+]?\d+", node):
            return float(node)
        return node
    return fix(cfg)


def with_values(cfg, values):
    cfg = copy.deepcopy(cfg)
    for path, value in values.items():
        node = cfg
        *parents, leaf = path.split(".")
        for p in parents:
            node = node[p]
        node[leaf] = copy.deepcopy(value)
    return cfg


def instantiate(node):
    """hydra.utils.instantiate(cfg, _recursive_=True) for plain dicts: children first, then
    `_target_(**kwargs)`."""
    if isinstance(node, list):
        return [instantiate(v) for v in node]
    if not isinstance(node, dict):
        return node
    kwargs = {k: instantiate(v) for k, v in node.items() if k != "_target_"}
    if "_target_" not in node:
        return kwargs
    module, name = node["_target_"].rsplit(".", 1)
    return getattr(importlib.import_module(module), name)(**kwargs)


def build(cfg):
    torch.manual_seed(SEED)
    model = instantiate(cfg)
    return model.eval()


def randomise(model):
    """Seeded values for what the default initialisation leaves constant or near zero, so that
    every path changes the result."""
    LayerNorm2d = importlib.import_module("sam2.modeling.sam2_utils").LayerNorm2d
    g = torch.Generator().manual_seed(SEED + 1)
    near_zero = {"no_mem_embed", "no_mem_pos_enc", "maskmem_tpos_enc", "no_obj_ptr",
                 "no_obj_embed_spatial", "image_encoder.trunk.pos_embed",
                 "image_encoder.trunk.pos_embed_window"}
    with torch.no_grad():
        for name, module in model.named_modules():
            if isinstance(module, (torch.nn.LayerNorm, LayerNorm2d)):
                module.weight.copy_(torch.rand(module.weight.shape, generator=g) + 0.5)
                module.bias.copy_(torch.randn(module.bias.shape, generator=g) * 0.1)
        for name, p in model.named_parameters():
            if name in near_zero:
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)
            elif name.endswith(".gamma"):  # CXBlock layer scale, 1e-6 at initialisation
                p.copy_(torch.rand(p.shape, generator=g) + 0.5)
            elif re.fullmatch(r"sam_mask_decoder\.output_hypernetworks_mlps\.0\.layers\.2\.\w+", name):
                p.mul_(TOKEN0_GAIN)
            elif re.fullmatch(r"sam_mask_decoder\.output_hypernetworks_mlps\.\d+\.layers\.2\.\w+", name):
                p.mul_(HYPERNET_GAIN)
            elif name.startswith("sam_mask_decoder.pred_obj_score_head.layers.2."):
                p.mul_(OBJ_SCORE_GAIN)
                if name.endswith("bias"):
                    p.add_(OBJ_SCORE_SHIFT)
    return model


# ---- float64 and bfloat16 runs: the official code with its inputs cast where it hard-codes float32.

def cast_inputs_hook(module, args):
    dtype = next(module.parameters(recurse=False)).dtype
    return tuple(a.to(dtype) if torch.is_tensor(a) and a.is_floating_point() else a for a in args)


def pe_encoding_in_matrix_dtype(self, coords):
    """PositionEmbeddingRandom._pe_encoding with the points in the matrix's dtype (the official
    code casts them to float32, which fails for other dtypes)."""
    coords = 2 * coords.to(self.positional_encoding_gaussian_matrix.dtype) - 1
    coords = coords @ self.positional_encoding_gaussian_matrix
    coords = 2 * np.pi * coords
    return torch.cat([torch.sin(coords), torch.cos(coords)], dim=-1)


def conv_transpose_bf16(self, x):
    """torch 1.13's CPU bfloat16 conv_transpose2d is broken: bfloat16 inputs and weights,
    accumulated in float32, rounded to bfloat16."""
    out = F.conv_transpose2d(x.to(torch.bfloat16).float(), self.weight.float(), self.bias.float(),
                             self.stride, self.padding, self.output_padding, self.groups,
                             self.dilation)
    return out.to(torch.bfloat16)


def to_dtype(model, dtype):
    if dtype == torch.float32:
        return model
    model = model.to(dtype)
    for module in model.modules():
        if any(True for _ in module.parameters(recurse=False)):
            module.register_forward_pre_hook(cast_inputs_hook)
        if type(module).__name__ == "PositionEmbeddingRandom":
            module._pe_encoding = types.MethodType(pe_encoding_in_matrix_dtype, module)
        if dtype == torch.bfloat16 and isinstance(module, torch.nn.ConvTranspose2d):
            module.forward = types.MethodType(conv_transpose_bf16, module)
    return model


# ---- files

def save_checkpoint(path, model):
    """torch.save({"model": state_dict}) as the published sam2.1_hiera_*.pt. Saved through a file
    object, so the zip's folder is "archive" whatever the file name."""
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    with open(path, "wb") as f:
        torch.save({"model": state}, f)


def mask_agreement(a, b):
    a, b = a.bool(), b.bool()
    union = (a | b).sum().item()
    iou = 1.0 if union == 0 else (a & b).sum().item() / union
    return {"iou": iou, "differing_fraction": (a ^ b).double().mean().item()}


# ---- image predictor

def make_image(shared_images):
    r0, r1, c0, c1 = IMAGE_CROP
    return np.array(Image.open(shared_images + "/astronaut_crop.png").convert("RGB"))[r0:r1, c0:c1]


def run_image(model, image):
    """SAM2ImagePredictor(model).set_image(image) and predict(...) for every prompt, with the
    intermediates recorded by hooks (which change nothing)."""
    SAM2ImagePredictor = importlib.import_module("sam2.sam2_image_predictor").SAM2ImagePredictor
    predictor = SAM2ImagePredictor(model)
    # The predictor hard-codes the backbone map sizes of image_size 1024 (256, 128, 64).
    predictor._bb_feat_sizes = [(IMAGE_SIZE // s, IMAGE_SIZE // s) for s in (4, 8, 16)]
    out, calls = {}, {}
    enc = model.image_encoder
    hooks = [
        enc.trunk.register_forward_pre_hook(lambda m, a: out.__setitem__("input", a[0].float())),
        enc.trunk.register_forward_hook(lambda m, a, o: out.update(
            {"trunk.stage%d" % (k + 1): t for k, t in enumerate(o)})),
        enc.neck.register_forward_hook(lambda m, a, o: out.update(
            dict({"fpn.level%d" % k: t for k, t in enumerate(o[0])},
                 **{"fpn_pos.level%d" % k: t for k, t in enumerate(o[1])}))),
        model.sam_prompt_encoder.register_forward_hook(lambda m, a, o: calls.update(
            sparse=o[0], dense=o[1])),
        model.sam_mask_decoder.register_forward_hook(lambda m, a, o: calls.update(
            object_score_logits=o[3])),
    ]
    decoder = model.sam_mask_decoder
    predict_masks = decoder.predict_masks

    def recording_predict_masks(**kwargs):
        result = predict_masks(**kwargs)
        calls["all_masks"], calls["all_ious"] = result[0], result[1]
        return result
    decoder.predict_masks = recording_predict_masks
    predictor.set_image(image)
    out["image_embed"] = predictor._features["image_embed"]
    out["dense_pe"] = model.sam_prompt_encoder.get_dense_pe()
    out["high_res_feats.0"], out["high_res_feats.1"] = predictor._features["high_res_feats"]
    # Level 3 (stride 32) is dropped by scalp=1 and its positional encoding is never used; the
    # levels 0 and 1 encodings are unused by the image path.
    for k in (0, 1, 3):
        del out["fpn_pos.level%d" % k]
    info = []
    for k, prompt in enumerate(PROMPTS):
        coords = labels = box = mask_input = None
        if "points" in prompt:
            coords = np.array([p[:2] for p in prompt["points"]], dtype=np.float32)
            labels = np.array([p[2] for p in prompt["points"]], dtype=np.int32)
        if "box" in prompt:
            box = np.array(prompt["box"], dtype=np.float32)
        if "mask_from" in prompt:
            src = prompt["mask_from"]
            best = int(torch.argmax(out["p%d.iou_predictions" % src]))
            mask_input = out["p%d.low_res_logits" % src][0, best][None].float().numpy()
        calls.clear()
        masks, ious, low_res = predictor.predict(point_coords=coords, point_labels=labels, box=box,
                                                 mask_input=mask_input,
                                                 multimask_output=prompt["multimask"],
                                                 return_logits=True)
        p = "p%d." % k
        if mask_input is not None:
            out[p + "mask_input"] = torch.from_numpy(mask_input)[None]
            out[p + "dense_embeddings"] = calls["dense"]
        out[p + "sparse_embeddings"] = calls["sparse"]
        out[p + "low_res_logits"] = torch.from_numpy(low_res)[None]
        out[p + "iou_predictions"] = torch.from_numpy(ious)[None]
        out[p + "object_score_logits"] = calls["object_score_logits"]
        out[p + "masks_logits"] = torch.from_numpy(masks)[None]  # at the original size
        if k == 1:  # the decoder's four masks and IoUs before the single-mask choice
            out[p + "decoder_masks"], out[p + "decoder_ious"] = calls["all_masks"], calls["all_ious"]
        single = calls["all_masks"][:, 0:1].float()
        info.append({"stability_score_token0": float(decoder._get_stability_scores(single)),
                     "all_iou_predictions": calls["all_ious"].float()[0].tolist()})
    for h in hooks:
        h.remove()
    del decoder.predict_masks
    return {k: v.detach() for k, v in out.items()}, info


def image_golden(args, cfg, report):
    image = make_image(args.shared_images)
    Image.fromarray(image).save(args.out + "/image.png")
    image = np.array(Image.open(args.out + "/image.png").convert("RGB"))
    model = randomise(build(with_values(cfg, IMAGE_OVERRIDES)))
    save_checkpoint(args.out + "/sam2_tiny.pt", model)
    state = model.state_dict()
    runs = {}
    for name, dtype in (("f32", torch.float32), ("f64", torch.float64), ("bf16", torch.bfloat16)):
        m = build(with_values(cfg, IMAGE_OVERRIDES))
        m.load_state_dict(state)
        with torch.no_grad():
            runs[name] = run_image(to_dtype(m, dtype), image)
    out32, info = runs["f32"]
    out64, _ = runs["f64"]
    out16, _ = runs["bf16"]
    # fpn.level0 and level1 are 1x1 convolutions of trunk stages 1 and 2 (no top-down there):
    # high_res_feats.0 / .1 check them through conv_s0 / conv_s1. Final masks: PNGs, and the
    # logits at the original size of one prompt.
    golden = {k: v.float() for k, v in out32.items() if k not in ("fpn.level0", "fpn.level1") and
              (not k.endswith("masks_logits") or k.startswith("p1."))}
    for k in out32:
        if k.endswith(".masks_logits"):
            prefix = k[: -len("masks_logits")]
            masks = out32[k][0] > 0
            for i in range(masks.shape[0]):
                Image.fromarray(masks[i].numpy().astype(np.uint8) * 255, mode="L").save(
                    args.out + "/image__%smask%d.png" % (prefix.replace(".", "_"), i))
    save_safetensors(args.out + "/image.safetensors", golden,
                     {"upstream": "facebookresearch/sam2@" + COMMIT})
    with open(args.out + "/image_prompts.json", "w") as f:
        json.dump({"prompts": PROMPTS}, f, indent=1)
    cases = report["image_cases"] = []
    for k, prompt in enumerate(PROMPTS):
        p = "p%d." % k
        m32, m64, m16 = (o[p + "masks_logits"][0] > 0 for o in (out32, out64, out16))
        cases.append(dict(prompt, **info[k], foreground_fraction=[
            float(m32[i].double().mean()) for i in range(m32.shape[0])],
            mask_fp32_vs_fp64=[mask_agreement(m32[i], m64[i]) for i in range(m32.shape[0])],
            mask_bf16_vs_fp64=[mask_agreement(m16[i], m64[i]) for i in range(m32.shape[0])]))
    for k in out32:
        report["fp32_vs_fp64"]["image." + k] = stats(out32[k], out64[k])
        report["bf16_vs_fp64"]["image." + k] = stats(out16[k].float(), out64[k])
        report["max_abs"]["image." + k] = float(out64[k].abs().max())


# ---- video predictor

def make_frames():
    """VIDEO_FRAMES RGB frames, VIDEO_W x VIDEO_H: a smooth seeded texture, a red disc moving
    right (object 1) and a blue rectangle moving down-left (object 2)."""
    g = np.random.default_rng(SEED)
    yy, xx = np.mgrid[0:VIDEO_H, 0:VIDEO_W].astype(np.float64)
    coarse = g.uniform(-1, 1, size=(3, 7, 9))
    frames, objects = [], []
    for t in range(VIDEO_FRAMES):
        base = np.stack([
            120 + 40 * np.sin(xx / 9.0 + 0.3 * t + c) * np.cos(yy / 13.0 - c) for c in range(3)], -1)
        for c in range(3):  # a low-frequency bilinear blotch pattern, shifting slowly
            up = np.array(Image.fromarray(coarse[c].astype(np.float32), mode="F").resize(
                (VIDEO_W, VIDEO_H), Image.BILINEAR))
            base[..., c] += 35 * np.roll(up, t, axis=1)
        disc = (30 + 8 * t, 38 + 2 * t, 13)
        rect = (86 - 4 * t, 52 + 2 * t, 30, 20)  # x0, y0, w, h
        inside_disc = (xx - disc[0]) ** 2 + (yy - disc[1]) ** 2 <= disc[2] ** 2
        inside_rect = ((xx >= rect[0]) & (xx < rect[0] + rect[2]) & (yy >= rect[1])
                       & (yy < rect[1] + rect[3]))
        base[inside_rect] = [40, 70, 200]
        base[inside_disc] = [210, 40, 40]
        frames.append(np.clip(np.rint(base), 0, 255).astype(np.uint8))
        objects.append({"disc_center_radius": list(disc), "rect_x0_y0_w_h": list(rect)})
    return frames, objects


def video_calls(objects):
    """The session, in order; each call's outputs are stored under its `phase`."""
    (cx0, cy0, _), (cx5, cy5, _) = objects[0]["disc_center_radius"], objects[5]["disc_center_radius"]
    x0, y0, w, h = objects[3]["rect_x0_y0_w_h"]
    return [
        {"phase": "add0", "call": "add_new_points_or_box", "frame_idx": 0, "obj_id": 1,
         "points": [[float(cx0), float(cy0)]], "labels": [1]},
        {"phase": "add3", "call": "add_new_points_or_box", "frame_idx": 3, "obj_id": 2,
         "box": [float(x0 - 2), float(y0 - 2), float(x0 + w + 1), float(y0 + h + 1)]},
        {"phase": "mask2", "call": "add_new_mask", "frame_idx": 2, "obj_id": 3,
         "mask": "video_mask_f2_o3.png"},
        {"phase": "mask7", "call": "add_new_mask", "frame_idx": 7, "obj_id": 2, "mask": "empty"},
        {"phase": "fwd", "call": "propagate_in_video"},
        {"phase": "add5", "call": "add_new_points_or_box", "frame_idx": 5, "obj_id": 1,
         "points": [[float(cx5 + 3), float(cy5 - 3)]], "labels": [1]},
        {"phase": "bwd", "call": "propagate_in_video", "start_frame_idx": 4, "reverse": True},
        {"phase": "fwd2", "call": "propagate_in_video", "start_frame_idx": 6},
    ]


def object3_mask():
    """Object 3's mask on frame 2 (video resolution): an ellipse of the textured background."""
    yy, xx = np.mgrid[0:VIDEO_H, 0:VIDEO_W]
    return ((xx - 104) / 15.0) ** 2 + ((yy - 22) / 10.0) ** 2 <= 1.0


MEMORY_ATTENTION_RECORDED = {("fwd", 4, 1), ("bwd", 2, 2)}


def run_video(model, video_dir, calls):
    """SAM2VideoPredictor's calls in order, with what each frame's inference produced recorded by
    wrappers around the model's own methods (which change nothing)."""
    out, info = {}, {"object_score_logits": {}}
    ctx = {}

    def obj_id_of(state, output_dict):
        for idx, d in state["output_dict_per_obj"].items():
            if d is output_dict:
                return state["obj_idx_to_id"][idx]

    run_single = model._run_single_frame_inference
    run_memory = model._run_memory_encoder
    encode_new = model._encode_new_memory
    attention = model.memory_attention.forward

    def recording_run_single(inference_state, output_dict, frame_idx, **kwargs):
        key = "%s.f%d.o%d." % (ctx["phase"], frame_idx, obj_id_of(inference_state, output_dict))
        ctx["key"] = key
        compact, pred_masks = run_single(inference_state=inference_state, output_dict=output_dict,
                                         frame_idx=frame_idx, **kwargs)
        out[key + "pred_masks"] = compact["pred_masks"]
        out[key + "obj_ptr"] = compact["obj_ptr"]
        out[key + "object_score_logits"] = compact["object_score_logits"]
        info["object_score_logits"][key[:-1]] = float(compact["object_score_logits"])
        if compact["maskmem_features"] is not None:
            out[key + "maskmem_features"] = compact["maskmem_features"]
            ctx.setdefault("maskmem_pos_enc", compact["maskmem_pos_enc"][0])
        return compact, pred_masks

    def recording_run_memory(inference_state, frame_idx, batch_size, **kwargs):
        # Only the preflight calls it, on one object's slice: find which from the temp outputs.
        key = "%s.preflight.f%d.o%d." % (ctx["phase"], frame_idx, ctx["preflight_obj"])
        ctx["key"] = key
        features, pos = run_memory(inference_state=inference_state, frame_idx=frame_idx,
                                   batch_size=batch_size, **kwargs)
        out[key + "maskmem_features"] = features
        ctx.setdefault("maskmem_pos_enc", pos[0])
        return features, pos

    def recording_encode_new(**kwargs):
        features, pos = encode_new(**kwargs)
        # before the video predictor stores them as bfloat16
        out[ctx["key"] + "maskmem_features_f32"] = features.clone()
        return features, pos

    def recording_attention(curr, memory, curr_pos=None, memory_pos=None, num_obj_ptr_tokens=0):
        # Upstream bug facebookresearch/sam2#308 / #577: the video predictor stores
        # maskmem_features as bfloat16; with object pointers torch.cat promotes the memory to
        # the model's dtype, but without any (an object tracked before its first conditioning
        # frame) the memory stays bfloat16 and, outside CUDA autocast, the first Linear fails
        # ("mat1 and mat2 must have the same dtype"). The fix those issues give: the same
        # bf16-rounded values in the model's dtype, as the promotion does in every other case.
        memory = memory.to(curr[0].dtype)
        result = attention(curr=curr, memory=memory, curr_pos=curr_pos, memory_pos=memory_pos,
                           num_obj_ptr_tokens=num_obj_ptr_tokens)
        phase, frame, obj = ctx["key"].split(".")[0], int(ctx["key"].split(".")[1][1:]), int(
            ctx["key"].split(".")[2][1:])
        if (phase, frame, obj) in MEMORY_ATTENTION_RECORDED:
            k = ctx["key"] + "memory_attention."
            out[k + "curr"], out[k + "memory"], out[k + "memory_pos"] = curr[0], memory, memory_pos
            out[k + "output"] = result
            info.setdefault("memory_attention", {})[k[:-1]] = {
                "num_obj_ptr_tokens": num_obj_ptr_tokens, "memory_tokens": memory.shape[0]}
        return result

    model._run_single_frame_inference = recording_run_single
    model._run_memory_encoder = recording_run_memory
    model._encode_new_memory = recording_encode_new
    model.memory_attention.forward = recording_attention
    # The preflight runs the memory encoder per object; which object is told by wrapping it.
    preflight = model.propagate_in_video_preflight

    def recording_preflight(inference_state):
        for obj_idx, temp in inference_state["temp_output_dict_per_obj"].items():
            pending = [f for k in ("non_cond_frame_outputs", "cond_frame_outputs") for f in temp[k]]
            info.setdefault("preflight", {})["%s.o%d" % (ctx["phase"], inference_state[
                "obj_idx_to_id"][obj_idx])] = pending
        # objects are encoded in index order; the per-object wrapper tells them apart
        obj_ids = iter([inference_state["obj_idx_to_id"][i] for i, temp in
                        inference_state["temp_output_dict_per_obj"].items()
                        for k in ("non_cond_frame_outputs", "cond_frame_outputs")
                        for f, o in temp[k].items() if o["maskmem_features"] is None])

        def next_obj(**kwargs):
            ctx["preflight_obj"] = next(obj_ids)
            return recording_run_memory(**kwargs)
        model._run_memory_encoder = next_obj
        try:
            return preflight(inference_state)
        finally:
            model._run_memory_encoder = recording_run_memory
    model.propagate_in_video_preflight = recording_preflight

    with torch.inference_mode():
        state = model.init_state(video_path=video_dir, offload_video_to_cpu=False,
                                 offload_state_to_cpu=False, async_loading_frames=False)
        info["input_sums"] = [float(state["images"][t].double().sum()) for t in range(VIDEO_FRAMES)]
        for call in calls:
            ctx["phase"] = call["phase"]
            if call["call"] == "add_new_points_or_box":
                _, obj_ids, masks = model.add_new_points_or_box(
                    state, frame_idx=call["frame_idx"], obj_id=call["obj_id"],
                    points=call.get("points"), labels=call.get("labels"), box=call.get("box"))
            elif call["call"] == "add_new_mask":
                mask = np.zeros((VIDEO_H, VIDEO_W), bool) if call["mask"] == "empty" else (
                    np.array(Image.open(os.path.join(video_dir, "..", call["mask"]))) > 0)
                _, obj_ids, masks = model.add_new_mask(
                    state, frame_idx=call["frame_idx"], obj_id=call["obj_id"], mask=mask)
            if call["call"] != "propagate_in_video":
                out[ctx["phase"] + ".video_res_masks"] = masks
                info[ctx["phase"] + ".obj_ids"] = list(obj_ids)
            else:
                frames = []
                for frame_idx, obj_ids, masks in model.propagate_in_video(
                        state, start_frame_idx=call.get("start_frame_idx"),
                        reverse=call.get("reverse", False)):
                    out["%s.f%d.video_res_masks" % (call["phase"], frame_idx)] = masks
                    frames.append(frame_idx)
                info[call["phase"] + ".frames"] = frames
    out["maskmem_pos_enc"] = ctx["maskmem_pos_enc"]
    for name in ("_run_single_frame_inference", "_run_memory_encoder", "_encode_new_memory",
                 "propagate_in_video_preflight"):
        delattr(model, name)
    del model.memory_attention.forward
    return {k: v.detach().clone() for k, v in out.items()}, info


def video_golden(args, cfg, report):
    frames, objects = make_frames()
    video_dir = os.path.join(args.out, "video")
    os.makedirs(video_dir, exist_ok=True)
    for t, frame in enumerate(frames):
        # the folder layout SAM2VideoPredictor reads: <frame_index>.jpg
        Image.fromarray(frame).save(os.path.join(video_dir, "%05d.jpg" % t), quality=95)
    Image.fromarray(object3_mask().astype(np.uint8) * 255, mode="L").save(
        args.out + "/video_mask_f2_o3.png")
    calls = video_calls(objects)
    with open(args.out + "/video_calls.json", "w") as f:
        json.dump({"video": "video/%05d.jpg", "objects_drawn": objects, "calls": calls}, f, indent=1)
    state = randomise(build(with_values(cfg, IMAGE_OVERRIDES))).state_dict()  # = sam2_tiny.pt
    runs = {}
    for name, dtype in (("f32", torch.float32), ("f64", torch.float64), ("bf16", torch.bfloat16)):
        m = build(with_values(cfg, VIDEO_OVERRIDES))
        m.load_state_dict(state)
        runs[name] = run_video(to_dtype(m, dtype), video_dir, calls)
    out32, info = runs["f32"]
    out64, info64 = runs["f64"]
    out16, info16 = runs["bf16"]
    report["video_info"] = info
    report["video_object_scores_f64_bf16"] = [info64["object_score_logits"],
                                              info16["object_score_logits"]]
    golden = {}
    for k, v in out32.items():
        frame = re.search(r"\.f(\d+)\.", k)
        if k.endswith("video_res_masks"):
            if k.split(".")[0] in ("add0", "add5") or k == "fwd.f1.video_res_masks":
                golden[k] = v.float()
            # every output's final masks (logits > 0), 8 pixels a byte, first pixel in the MSB
            golden[k + "_bits"] = torch.from_numpy(np.packbits((v > 0).numpy(), axis=-1))
        elif "maskmem_features" in k and ".preflight." not in k and int(frame.group(1)) > 2:
            continue  # frames 0-2 and the conditioning frames' memories only
        else:
            golden[k] = v.float()
    first = np.array(Image.open(os.path.join(video_dir, "00000.jpg")).convert("RGB").resize(
        (IMAGE_SIZE, IMAGE_SIZE)))
    golden["frame0.resized"] = torch.from_numpy(first)
    save_safetensors(args.out + "/video.safetensors", golden,
                     {"upstream": "facebookresearch/sam2@" + COMMIT})
    for k in out32:
        report["fp32_vs_fp64"]["video." + k] = stats(out32[k], out64[k])
        report["bf16_vs_fp64"]["video." + k] = stats(out16[k].float(), out64[k])
        report["max_abs"]["video." + k] = float(out64[k].abs().max())
    agreement = report["video_masks"] = {}
    for k in out32:
        if k.endswith("video_res_masks"):
            m32, m64, m16 = (o[k] > 0 for o in (out32, out64, out16))
            agreement[k] = {"foreground_fraction": [float(m32[i].double().mean()) for i in range(m32.shape[0])],
                            "fp32_vs_fp64": [mask_agreement(m32[i], m64[i]) for i in range(m32.shape[0])],
                            "bf16_vs_fp64": [mask_agreement(m16[i], m64[i]) for i in range(m32.shape[0])]}


# ---- full-size layouts

def official_layouts(root, tiny_model):
    """Every key and shape of the tiny checkpoint and of the full-size sam2.1 hiera large; for all
    four published configurations (built from their YAML, not run) the parameter count, the float
    count of the state dict, and the shapes of the keys that tell the layouts apart."""
    telling = ["image_encoder.trunk.patch_embed.proj.weight", "image_encoder.trunk.pos_embed",
               "image_encoder.trunk.pos_embed_window", "image_encoder.neck.convs.0.conv.weight",
               "image_encoder.neck.convs.3.conv.weight", "memory_encoder.out_proj.weight",
               "memory_attention.layers.0.cross_attn_image.k_proj.weight", "obj_ptr_proj.layers.0.weight",
               "sam_mask_decoder.pred_obj_score_head.layers.0.weight", "maskmem_tpos_enc"]

    def describe(model):
        state = model.state_dict()
        blocks = sorted({int(k.split(".")[3]) for k in state if k.startswith("image_encoder.trunk.blocks.")})
        stage_dims = []
        for b in blocks:
            d = state["image_encoder.trunk.blocks.%d.mlp.layers.1.weight" % b].shape[0]
            stage_dims.append(d)
        trunk = model.image_encoder.trunk
        hidden = {"image_size": model.image_size, "window_spec": list(trunk.window_spec),
                  "global_att_blocks": list(trunk.global_att_blocks),
                  "trunk_heads": [b.attn.num_heads for b in trunk.blocks],
                  "memory_attention_heads": model.memory_attention.layers[0].self_attn.num_heads,
                  "mask_decoder_heads": model.sam_mask_decoder.transformer.layers[0].self_attn.num_heads,
                  "num_maskmem": model.num_maskmem}
        return {"not_in_shapes": hidden,
                "parameters": sum(p.numel() for p in model.parameters()),
                "state_dict_floats": sum(v.numel() for v in state.values()),
                "keys": len(state),
                "trunk_blocks": len(blocks),
                "trunk_block_dims": stage_dims,
                "memory_attention_layers": len({k.split(".")[2] for k in state
                                                if k.startswith("memory_attention.layers.")}),
                "telling_shapes": {k: list(state[k].shape) for k in telling}}

    layouts = {"upstream": "facebookresearch/sam2@" + COMMIT, "configs": {}}
    for arch, letter in ARCHS.items():
        model = build(with_values(read_config(root, letter), IMAGE_OVERRIDES))
        layouts["configs"]["sam2.1_hiera_" + arch] = describe(model)
        if arch == "large":
            layouts["sam2.1_hiera_large_shapes"] = {k: list(v.shape) for k, v in model.state_dict().items()}
        del model
    layouts["configs"]["sam2_tiny"] = describe(tiny_model)
    layouts["sam2_tiny_shapes"] = {k: list(v.shape) for k, v in tiny_model.state_dict().items()}
    return layouts


def tolerances(report):
    """Per quantity (prompts, frames and objects pooled): fp32 tolerance = max(10 x the largest
    |fp32 - fp64|, a floor of 1e-5, 1e-4 for logits); bf16 tolerance = 2.5 x the largest
    |bf16 - fp64| (as ../shared/golden/SAM.md)."""
    pooled = {}
    for key in report["fp32_vs_fp64"]:
        q = re.sub(r"\.(p\d+|f\d+|o\d+|add\d+|mask\d+|fwd2?|bwd|preflight)(?=\.)", "", key)
        e = pooled.setdefault(q, {"max_abs": 0.0, "fp32_vs_fp64": 0.0, "bf16_vs_fp64": 0.0})
        e["max_abs"] = max(e["max_abs"], report["max_abs"][key])
        e["fp32_vs_fp64"] = max(e["fp32_vs_fp64"], report["fp32_vs_fp64"][key]["max"])
        e["bf16_vs_fp64"] = max(e["bf16_vs_fp64"], report["bf16_vs_fp64"][key]["max"])
    for q, e in pooled.items():
        floor = 1e-4 if any(w in q for w in ("logits", "masks", "mask_input")) else 1e-5
        e["fp32_tol"] = float("%.1g" % max(10 * e["fp32_vs_fp64"], floor))
        e["bf16_tol"] = float("%.2g" % max(2.5 * e["bf16_vs_fp64"], 1e-3))
        if q in ("video.maskmem_features", "video.memory_attention.memory"):
            e["note"] = ("bf16-stored memory values: equal to bf16(maskmem_features_f32), so a port "
                         "may differ by one bf16 ulp where its float32 value lies within "
                         "maskmem_features_f32's tolerance of a rounding boundary")
        if q in ("image.fpn.level0", "image.fpn.level1"):
            e["note"] = "not stored; checked through high_res_feats (conv_s0 / conv_s1)"
    return pooled


def mask_tolerances(report):
    """The final binary masks (logits > 0 at the image / video size), per mask: the lowest IoU
    and the largest share of differing pixels seen; fp32 tolerances IoU >= 0.995 and <= 1e-3 of
    the pixels; bf16 tolerances 2.5 x the bf16 run's distance from fp64."""
    groups = {"image": [m for c in report.get("image_cases", []) for m in
                        zip(c["mask_fp32_vs_fp64"], c["mask_bf16_vs_fp64"])],
              "video": [m for v in report.get("video_masks", {}).values() for m in
                        zip(v["fp32_vs_fp64"], v["bf16_vs_fp64"])]}
    result = {}
    for name, pairs in groups.items():
        if not pairs:
            continue
        f32, b16 = zip(*pairs)
        worst_b16_iou = min(m["iou"] for m in b16)
        worst_b16_diff = max(m["differing_fraction"] for m in b16)
        result[name] = {
            "fp32_vs_fp64": {"min_iou": min(m["iou"] for m in f32),
                             "max_differing_fraction": max(m["differing_fraction"] for m in f32)},
            "bf16_vs_fp64": {"min_iou": worst_b16_iou, "max_differing_fraction": worst_b16_diff},
            "fp32_tol": {"min_iou": 0.995, "max_differing_fraction": 1e-3},
            "bf16_tol": {"min_iou": float("%.2g" % (1 - 2.5 * (1 - worst_b16_iou))),
                         "max_differing_fraction": float("%.2g" % (2.5 * worst_b16_diff))}}
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sam2", required=True, help="clone or bare mirror of facebookresearch/sam2")
    parser.add_argument("--shared-images", default="../shared/golden/images")
    parser.add_argument("--out", default="tests/data/sam2")
    parser.add_argument("--parts", default="image,video,layouts")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", message=".*Skipping the post-processing step.*")
    root = load_official(args.sam2)
    os.makedirs(args.out, exist_ok=True)
    cfg = with_values(read_config(root, "t"), TINY)
    parts = args.parts.split(",")
    report = {"upstream": "facebookresearch/sam2@" + COMMIT, "seed": SEED, "tiny": TINY,
              "fp32_vs_fp64": {}, "bf16_vs_fp64": {}, "max_abs": {}}
    if "image" in parts:
        image_golden(args, cfg, report)
    if "video" in parts:
        video_golden(args, cfg, report)
    if "layouts" in parts:
        tiny = build(with_values(cfg, IMAGE_OVERRIDES))
        with open(args.out + "/official_layouts.json", "w") as f:
            json.dump(official_layouts(root, tiny), f, separators=(",", ":"))
    with open(args.out + "/sam2_measured.json", "w") as f:
        json.dump(report, f, indent=1)
    pooled = tolerances(report)
    with open(args.out + "/sam2_tolerances.json", "w") as f:
        json.dump({"upstream": report["upstream"], "rule": tolerances.__doc__.split(": ", 1)[1]
                   .replace("\n    ", " "), "quantities": pooled,
                   "final_masks": mask_tolerances(report)}, f, indent=1)
    for q, e in pooled.items():
        print("%-36s max %8.3g  fp32-fp64 %8.2e tol %7.1e  bf16-fp64 %8.2e tol %7.2g" % (
            q, e["max_abs"], e["fp32_vs_fp64"], e["fp32_tol"], e["bf16_vs_fp64"], e["bf16_tol"]))


if __name__ == "__main__":
    main()
