// Serialises SamConfig, U2NetConfig, IsNetConfig and InSPyReNetConfig field by field.
#include "config_json.h"

#include <QJsonArray>

#include <array>

namespace ps::cli {
namespace {

template <typename T>
QJsonArray array_of(const std::vector<T>& values) {
    QJsonArray out;
    for (const T& v : values) out.append(static_cast<qint64>(v));
    return out;
}

// The RSU stages U²-Net and ISNet share, and the input widths of their side outputs.
QJsonArray rsu_stages_json(const std::vector<runtime::RsuConfig>& stages) {
    QJsonArray out;
    for (const runtime::RsuConfig& s : stages) {
        out.append(QJsonObject{{"name", QString::fromStdString(s.name)},
                               {"height", s.height},
                               {"dilated", s.dilated},
                               {"in_ch", qint64(s.in_ch)},
                               {"mid_ch", qint64(s.mid_ch)},
                               {"out_ch", qint64(s.out_ch)}});
    }
    return out;
}

QJsonArray widths_json(const std::array<int64_t, 6>& widths) {
    QJsonArray out;
    for (int64_t width : widths) out.append(qint64(width));
    return out;
}

}  // namespace

QJsonObject to_json(const sam::SamConfig& c) {
    QJsonObject encoder;
    if (c.encoder == sam::EncoderKind::ViT) {
        encoder["type"] = "vit";
        encoder["embed_dim"] = qint64(c.vit.embed_dim);
        encoder["depth"] = qint64(c.vit.depth);
        encoder["num_heads"] = qint64(c.vit.num_heads);
        encoder["patch_size"] = qint64(c.vit.patch_size);
        encoder["mlp_dim"] = qint64(c.vit.mlp_dim);
        encoder["global_attn_indexes"] = array_of(c.vit.global_blocks);
        encoder["window_size_per_block"] = array_of(c.vit.window_size_per_block);
        encoder["use_rel_pos"] = c.vit.use_rel_pos;
    } else {
        encoder["type"] = "tiny_vit";
        encoder["embed_dims"] = array_of(c.tiny_vit.embed_dims);
        encoder["depths"] = array_of(c.tiny_vit.depths);
        encoder["num_heads"] = array_of(c.tiny_vit.num_heads);
        encoder["window_sizes"] = array_of(c.tiny_vit.window_sizes);
        encoder["attention_biases"] = c.tiny_vit_attention_biases ? "checkpoint" : "reference";
    }
    QJsonObject decoder{{"transformer_dim", qint64(c.prompt_dim)},
                        {"depth", qint64(c.decoder_depth)},
                        {"mlp_dim", qint64(c.decoder_mlp_dim)},
                        {"num_heads", qint64(c.decoder_heads)},
                        {"num_mask_tokens", qint64(c.num_mask_tokens)},
                        {"iou_head_depth", qint64(c.iou_head_depth)},
                        {"iou_head_hidden", qint64(c.iou_head_hidden)}};
    return QJsonObject{{"family", c.encoder == sam::EncoderKind::ViT ? "sam" : "mobile_sam"},
                       {"arch", QString::fromStdString(c.arch)},
                       {"image_size", qint64(c.image_size)},
                       {"embedding_grid", qint64(c.embedding_grid)},
                       {"image_encoder", encoder},
                       {"prompt_embed_dim", qint64(c.prompt_dim)},
                       {"mask_in_chans", qint64(c.mask_in_chans)},
                       {"mask_decoder", decoder},
                       {"parameters", qint64(c.parameter_count)},
                       {"dtype", QString::fromStdString(c.dtype)}};
}

QJsonObject to_json(const u2net::U2NetConfig& c) {
    return QJsonObject{{"family", "u2net"},
                       {"arch", QString::fromStdString(c.arch)},
                       {"input_size", qint64(c.input_size)},
                       {"stages", rsu_stages_json(c.stages)},
                       {"side_in", widths_json(c.side_in)},
                       {"out_ch", qint64(c.out_ch)},
                       {"parameters", qint64(c.parameter_count)},
                       {"dtype", QString::fromStdString(c.dtype)}};
}

QJsonObject to_json(const isnet::IsNetConfig& c) {
    return QJsonObject{{"family", "isnet"},
                       {"arch", QString::fromStdString(c.arch)},
                       {"input_size", qint64(c.input_size)},
                       {"stem_ch", qint64(c.stem_ch)},
                       {"stages", rsu_stages_json(c.stages)},
                       {"side_in", widths_json(c.side_in)},
                       {"out_ch", qint64(c.out_ch)},
                       {"parameters", qint64(c.parameter_count)},
                       {"dtype", QString::fromStdString(c.dtype)}};
}

QJsonObject to_json(const inspyrenet::InSPyReNetConfig& c) {
    QJsonObject backbone{{"name", QString::fromStdString(c.backbone_name())}};
    if (c.backbone == inspyrenet::Backbone::SwinB) {
        QJsonArray depths, heads;
        for (int64_t d : c.swin.depths) depths.append(qint64(d));
        for (int64_t h : c.swin.num_heads) heads.append(qint64(h));
        backbone["embed_dim"] = qint64(c.swin.embed_dim);
        backbone["depths"] = depths;
        backbone["num_heads"] = heads;
        backbone["window_size"] = qint64(c.swin.window_size);
    } else {
        QJsonArray blocks, widths;
        for (int64_t b : c.res2net.blocks) blocks.append(qint64(b));
        for (int64_t w : c.res2net.widths) widths.append(qint64(w));
        backbone["blocks"] = blocks;
        backbone["widths"] = widths;
        backbone["scale"] = qint64(c.res2net.scale);
    }
    QJsonArray in_channels;
    for (int64_t ch : c.in_channels) in_channels.append(qint64(ch));
    return QJsonObject{{"family", "inspyrenet"},
                       {"arch", QString::fromStdString(c.arch)},
                       {"input_size", qint64(c.base_size)},
                       {"mode", QString::fromStdString(c.mode)},
                       {"backbone", backbone},
                       {"in_channels", in_channels},
                       {"depth", qint64(c.depth)},
                       {"parameters", qint64(c.parameter_count)},
                       {"dtype", QString::fromStdString(c.dtype)}};
}

QJsonObject to_json(const birefnet::BiRefNetConfig& c) {
    QJsonArray depths, heads, channels;
    for (int64_t d : c.backbone.depths) depths.append(qint64(d));
    for (int64_t h : c.backbone.num_heads) heads.append(qint64(h));
    for (int64_t ch : c.channels) channels.append(qint64(ch));
    const QJsonObject backbone{{"name", QString::fromStdString(c.backbone_name)},
                               {"embed_dim", qint64(c.backbone.embed_dim)},
                               {"depths", depths},
                               {"num_heads", heads},
                               {"window_size", qint64(c.backbone.window_size)}};
    return QJsonObject{{"family", "birefnet"},
                       {"arch", QString::fromStdString(c.arch)},
                       {"variants", QString::fromStdString(c.variants())},
                       {"input_size", qint64(c.input_width)},
                       {"input_width", qint64(c.input_width)},
                       {"input_height", qint64(c.input_height)},
                       {"input_size_source", QString::fromStdString(c.input_size_source)},
                       {"dynamic_input", c.dynamic_input},
                       {"backbone", backbone},
                       {"lateral_channels", channels},
                       {"decoder_channels", qint64(c.dec_inter)},
                       {"aspp_channels", qint64(c.aspp_channels)},
                       {"parameters", qint64(c.parameter_count)},
                       {"dtype", QString::fromStdString(c.dtype)}};
}

QJsonObject to_json(const sam2::Sam2Config& c) {
    const QJsonObject trunk{{"type", "hiera"},
                            {"embed_dim", qint64(c.hiera.embed_dim)},
                            {"num_heads", qint64(c.hiera.num_heads)},
                            {"stages", array_of(c.hiera.stages)},
                            {"window_spec", array_of(c.hiera.window_spec)},
                            {"global_att_blocks", array_of(c.hiera.global_att_blocks)},
                            {"window_pos_embed_bkg_spatial_size", array_of(c.hiera.pos_embed_bkg)}};
    const QJsonObject neck{{"d_model", qint64(c.d_model)},
                           {"backbone_channel_list", array_of(c.backbone_channels)},
                           {"fpn_top_down_levels", array_of(c.fpn_top_down_levels)},
                           {"scalp", qint64(c.scalp)}};
    const QJsonObject decoder{
        {"transformer_dim", qint64(c.d_model)},
        {"depth", qint64(c.decoder_depth)},
        {"mlp_dim", qint64(c.decoder_mlp_dim)},
        {"num_heads", qint64(c.decoder_heads)},
        {"num_mask_tokens", qint64(c.num_mask_tokens)},
        {"use_high_res_features", c.use_high_res_features},
        {"pred_obj_scores", c.pred_obj_scores},
        {"iou_prediction_use_sigmoid", c.iou_prediction_use_sigmoid},
        {"dynamic_multimask_via_stability", c.dynamic_multimask_via_stability}};
    const QJsonObject memory{{"mem_dim", qint64(c.mem_dim)},
                             {"num_maskmem", qint64(c.num_maskmem)},
                             {"memory_attention_layers", qint64(c.memory_attention_layers)}};
    return QJsonObject{{"family", "sam2"},
                       {"arch", QString::fromStdString(c.arch)},
                       {"image_size", qint64(c.image_size)},
                       {"trunk", trunk},
                       {"neck", neck},
                       {"mask_decoder", decoder},
                       {"memory", memory},
                       {"parameters", qint64(c.parameter_count)},
                       {"dtype", QString::fromStdString(c.dtype)}};
}

}  // namespace ps::cli
