// Generated SAM checkpoints for tests: official layouts with seeded random weights.
#pragma once

#include <ATen/ATen.h>
#include <QString>

#include <string>

#include "io/checkpoint.h"
#include "models/sam/sam_init.h"
#include "models/sam/sam_shapes.h"

using ps::sam::random_sam_tensors;  // seeded random weights with the official layout

// A small ViT SAM of another shape than any official one. grid 16 means 256x256 input, so an
// encode takes milliseconds: for tests that encode hundreds of images.
inline ps::sam::SamConfig custom_vit_config(int64_t grid = 64) {
    ps::sam::SamConfig c = ps::sam::official_sam_config("vit_b");
    c.arch = "vit_custom";
    c.vit.embed_dim = 48;
    c.vit.depth = 3;
    c.vit.num_heads = 3;
    c.vit.mlp_dim = 80;
    c.vit.grid = grid;
    c.image_size = grid * c.vit.patch_size;
    c.embedding_grid = grid;
    c.vit.global_blocks = {2};
    c.vit.window_size_per_block = {8, 8, 0};
    c.neck_in = 48;
    c.prompt_dim = 64;
    c.decoder_mlp_dim = 96;
    c.decoder_depth = 1;
    c.iou_head_hidden = 40;
    c.iou_head_depth = 2;
    c.mask_in_chans = 8;
    return c;
}

// Writes a generated checkpoint; returns its path.
inline std::string write_sam_checkpoint(const QString& folder, const ps::sam::SamConfig& config,
                                        uint64_t seed) {
    const std::string path = (folder + "/generated_" + QString::fromStdString(config.arch) + "_" +
                              QString::number(config.vit.grid) + ".safetensors")
                                 .toStdString();
    if (!ps::io::save_safetensors(path, random_sam_tensors(config, seed)).ok()) return {};
    return path;
}
