// What the SAM 2.1 tests share about their golden data (tests/data/sam2, made by
// scripts/golden/sam2_golden.py): its JSON files and tensors, the tolerances it measured, the
// tiny checkpoint's options that its shapes do not tell, and the devices and precisions of the
// rows. Include test_data.h's PS_TEST_DATA: the test's file name must contain "sam2".
#pragma once

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStringList>
#include <QtTest>

#include <array>
#include <map>
#include <string>
#include <vector>

#include "io/checkpoint.h"
#include "models/runtime/device.h"
#include "models/runtime/segmentation_types.h"
#include "models/sam2/sam2_model.h"
#include "test_data.h"

inline QJsonObject sam2_json(const QString& name) {
    QFile file(test_data_dir("sam2") + "/" + name);
    if (!file.open(QIODevice::ReadOnly)) qFatal("%s not readable", qPrintable(name));
    return QJsonDocument::fromJson(file.readAll()).object();
}

// A tensor file of the golden (image.safetensors, video.safetensors, sam2_tiny.pt), read once.
inline const ps::io::TensorMap& sam2_tensors(const QString& name) {
    static std::map<QString, ps::io::TensorMap> files;
    auto it = files.find(name);
    if (it != files.end()) return it->second;
    auto loaded = ps::io::load_checkpoint(test_data_path("sam2", name));
    if (!loaded) qFatal("%s", loaded.message().c_str());
    return files.emplace(name, loaded->tensors).first->second;
}

inline std::vector<int64_t> int_list(const QJsonValue& value) {
    std::vector<int64_t> out;
    for (const QJsonValue& v : value.toArray()) out.push_back(v.toInteger());
    return out;
}

// sam2_tolerances.json: quantities["<scope>.<name>"]["fp32_tol" | "bf16_tol"], scope "image"
// or "video".
inline double sam2_tolerance(const QString& scope, const QString& name, const QString& precision) {
    static const QJsonObject quantities =
        sam2_json("sam2_tolerances.json")["quantities"].toObject();
    const QJsonValue value = quantities[scope + "." + name].toObject()[precision + "_tol"];
    if (!value.isDouble())
        qFatal("no %s tolerance for %s.%s", qPrintable(precision), qPrintable(scope),
               qPrintable(name));
    return value.toDouble();
}

// What sam2_tiny.pt does not store, from the golden's own account (official_layouts.json,
// configs.sam2_tiny.not_in_shapes: image size 256, windows (8, 4, 6, 3), global blocks 4 and 6,
// sam2.1_hiera_t's one head in the first stage).
inline ps::sam2::Sam2Options tiny_sam2_options(const QString& device,
                                               ps::runtime::Precision precision) {
    static const QJsonObject unseen = sam2_json("official_layouts.json")["configs"]
                                          .toObject()["sam2_tiny"]
                                          .toObject()["not_in_shapes"]
                                          .toObject();
    ps::sam2::Sam2Options options;
    options.device = *ps::runtime::parse_device(device.toStdString());
    options.precision = precision;
    options.layout.image_size = unseen["image_size"].toInteger();
    options.layout.num_heads = unseen["trunk_heads"].toArray()[0].toInteger();
    options.layout.window_spec = int_list(unseen["window_spec"]);
    options.layout.global_att_blocks = int_list(unseen["global_att_blocks"]);
    return options;
}

// CUDA rows where a GPU answers (the GPU machine), with the CPU's tolerances.
inline QStringList sam2_test_devices() {
    QStringList out{"cpu"};
    if (ps::runtime::cuda_available()) out << "cuda";
    return out;
}

inline ps::runtime::Precision precision_of(const QString& name) {
    return name == "bf16" ? ps::runtime::Precision::Bf16 : ps::runtime::Precision::Fp32;
}

// image_prompts.json's prompt `index` (points, box, multimask). `mask_from`, when given, receives
// the prompt whose low-resolution logits it takes as mask input (-1: none), which each test
// supplies its own way (the golden's tensor, or its own earlier answer).
inline ps::runtime::Prompt sam2_golden_prompt(int index, int* mask_from = nullptr) {
    static const QJsonArray prompts = sam2_json("image_prompts.json")["prompts"].toArray();
    const QJsonObject json = prompts[index].toObject();
    ps::runtime::Prompt prompt;
    for (const QJsonValue& p : json["points"].toArray()) {
        const QJsonArray xyl = p.toArray();
        prompt.points.push_back({xyl[0].toDouble(), xyl[1].toDouble(), xyl[2].toInt()});
    }
    if (json.contains("box")) {
        const QJsonArray b = json["box"].toArray();
        prompt.box = std::array<double, 4>{b[0].toDouble(), b[1].toDouble(), b[2].toDouble(),
                                           b[3].toDouble()};
    }
    prompt.multimask = json["multimask"].toBool();
    if (mask_from) *mask_from = json.contains("mask_from") ? json["mask_from"].toInt() : -1;
    return prompt;
}

inline int sam2_golden_prompt_count() {
    return static_cast<int>(sam2_json("image_prompts.json")["prompts"].toArray().size());
}
