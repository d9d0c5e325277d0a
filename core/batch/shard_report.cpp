// Gathering shard summaries: counts added up, failures listed, missing shards named.
#include "batch/shard_report.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

#include <algorithm>
#include <cstdio>
#include <map>

#include "io/atomic_file.h"

namespace ps::batch {
namespace {

QString q(const std::string& text) {
    return QString::fromStdString(text);
}

std::string format(const char* pattern, double value) {
    char text[64];
    std::snprintf(text, sizeof(text), pattern, value);
    return text;
}

}  // namespace

Result<MergedReport> merge_shard_summaries(const std::string& root) {
    const std::string folder = shards_folder(root);
    const QDir dir(q(folder));
    static const QRegularExpression name_pattern("^(\\d+)-of-(\\d+)\\.json$");
    std::map<int, ShardSummary> by_index;
    MergedReport report;
    for (const QString& name : dir.entryList({"*-of-*.json"}, QDir::Files, QDir::Name)) {
        if (!name_pattern.match(name).hasMatch()) continue;
        const std::string path = dir.filePath(name).toStdString();
        auto bytes = io::read_whole_file(path);
        if (!bytes) return bytes.error();
        auto summary = summary_from_json(*bytes, path);
        if (!summary) return summary.error();
        if (report.shards == 0) {
            report.shards = summary->shard.count;
            report.command = summary->command;
        }
        if (summary->shard.count != report.shards)
            return make_error(ErrorKind::Mismatch, folder + ": summaries of a split into " +
                                                       std::to_string(report.shards) +
                                                       " and into " +
                                                       std::to_string(summary->shard.count) +
                                                       " shards; keep the files of one split");
        if (summary->command != report.command)
            return make_error(ErrorKind::Mismatch, folder + ": summaries of two commands, " +
                                                       report.command + " and " + summary->command);
        by_index[summary->shard.index] = std::move(*summary);
    }
    if (by_index.empty())
        return make_error(ErrorKind::Io, folder +
                                             ": no shard summaries (<I>-of-<N>.json); "
                                             "run the batch with --shard I/N first");
    for (int index = 0; index < report.shards; ++index) {
        const auto it = by_index.find(index);
        if (it == by_index.end()) {
            report.missing.push_back(index);
            continue;
        }
        const ShardSummary& summary = it->second;
        report.inputs += summary.inputs;
        report.done += summary.done;
        report.failed += summary.failed;
        report.skipped += summary.skipped;
        report.pending += std::max(0, summary.pending());
        report.failures.insert(report.failures.end(), summary.failures.begin(),
                               summary.failures.end());
        report.summaries.push_back(summary);
    }
    std::sort(report.failures.begin(), report.failures.end());
    return report;
}

std::string report_to_json(const MergedReport& report) {
    QJsonArray failures;
    for (const auto& [file, reason] : report.failures)
        failures.append(QJsonObject{{"file", q(file)}, {"reason", q(reason)}});
    QJsonArray shards;
    for (const ShardSummary& summary : report.summaries) {
        const QJsonObject one =
            QJsonDocument::fromJson(QByteArray::fromStdString(summary_to_json(summary))).object();
        shards.append(one);
    }
    QJsonArray missing;
    for (int index : report.missing) missing.append(index);
    const QJsonObject json{{"schema", "photosynth-batch-report/1"},
                           {"command", q(report.command)},
                           {"shards", report.shards},
                           {"inputs", report.inputs},
                           {"done", report.done},
                           {"failed", report.failed},
                           {"skipped", report.skipped},
                           {"pending", report.pending},
                           {"complete", report.complete()},
                           {"missing_shards", missing},
                           {"failures", failures},
                           {"per_shard", shards}};
    return QJsonDocument(json).toJson(QJsonDocument::Indented).toStdString();
}

std::string input_noun(const std::string& command) {
    if (command == "track") return "video";
    return command == "remove-bg --video" ? "frame" : "image";
}

std::string report_to_text(const MergedReport& report) {
    const std::string noun = input_noun(report.command);
    std::string text = report.command + ", " + std::to_string(report.shards) +
                       " shard(s): " + std::to_string(report.inputs) + " " + noun + "(s), " +
                       std::to_string(report.done) + " done, " + std::to_string(report.failed) +
                       " failed, " + std::to_string(report.skipped) + " skipped, " +
                       std::to_string(report.pending) + " pending" +
                       (report.complete() ? "" : " (incomplete)") + "\n";
    for (int index : report.missing)
        text += "  shard " + std::to_string(index) + "/" + std::to_string(report.shards) +
                ": no summary (never started?)\n";
    for (const ShardSummary& summary : report.summaries) {
        text += "  shard " + to_string(summary.shard) + ": " + std::to_string(summary.inputs) +
                " " + noun + "(s), " + std::to_string(summary.done) + " done, " +
                std::to_string(summary.failed) + " failed, " + std::to_string(summary.skipped) +
                " skipped, " + std::to_string(std::max(0, summary.pending())) + " pending";
        for (const ShardRun& run : summary.runs)
            text += "; run on " + run.host + ": " + std::to_string(run.processed) + " processed, " +
                    std::to_string(run.resumed) + " resumed, " +
                    format("%.2f ", run.images_per_second()) + noun + "s/s" +
                    (run.ended ? "" : " (interrupted or running)");
        text += "\n";
    }
    if (!report.failures.empty()) text += "failures:\n";
    for (const auto& [file, reason] : report.failures) text += "  " + file + ": " + reason + "\n";
    return text;
}

}  // namespace ps::batch
