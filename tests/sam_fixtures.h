// Generated SAM checkpoints for tests: official layouts with seeded random weights.
#pragma once

#include <ATen/ATen.h>
#include <QString>

#include <string>

#include "io/checkpoint.h"
#include "models/sam/sam_shapes.h"

// Seeded random weights of a sensible scale, so a forward pass gives finite, varied output.
inline ps::io::TensorMap random_sam_tensors(const ps::sam::SamConfig& config, uint64_t seed) {
    at::manual_seed(seed);
    ps::io::TensorMap tensors;
    for (const auto& [key, spec] : ps::sam::sam_tensor_specs(config)) {
        if (spec.integer) {
            tensors[key] = at::zeros(spec.shape, at::kLong);
        } else if (key.find("running_var") != std::string::npos) {
            tensors[key] = at::rand(spec.shape) + 0.5;
        } else {
            tensors[key] = at::randn(spec.shape) * 0.05;
        }
    }
    // Like the golden fixtures: scale the hypernetworks' last layer so masks are not flat.
    for (auto& [key, tensor] : tensors) {
        if (key.find("output_hypernetworks_mlps") != std::string::npos &&
            key.find("layers.2") != std::string::npos) {
            tensor = tensor * 30;
        }
    }
    return tensors;
}

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
