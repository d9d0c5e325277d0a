// photosynth-cli track --input-dir: every video of a folder (video files and frame folders)
// tracked with its prompts file into its own store, one model load for them all. As one shard
// of a cluster job (--shard I/N, a Slurm array task, a Kubernetes Indexed Job) only the videos
// the shard owns, with the journal and summary that `merge` gathers (batch/shard_journal.h).
// A video is the unit: tracking one is sequential, its frames are not split.
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <optional>

#include "batch/shard_journal.h"
#include "cli_args.h"
#include "commands.h"
#include "engine/engine.h"
#include "output_checks.h"
#include "track_job.h"
#include "video/track_batch.h"
#include "video/track_store.h"

namespace ps::cli {
namespace {

enum class Outcome { Tracked, Resumed, Failed };

struct VideoResult {
    Outcome outcome = Outcome::Failed;
    std::string reason;
    long long frames = 0;  // tracked by this run
    double seconds = 0;
};

// The journal line of a video this run tracked or failed: the video (file or frame folder), and
// for a tracked one its prompts file and its whole output folder, each by size and hash, so that
// a rerun skips it only while none of them changed.
batch::JournalEntry journal_entry(const video::TrackBatchItem& item, const VideoResult& result,
                                  const batch::ShardJournal& journal) {
    batch::JournalEntry entry;
    entry.input = item.input;
    entry.ms = result.seconds * 1000.0;
    if (auto digest = batch::digest_file(item.video)) entry.input_digest = *digest;
    if (result.outcome == Outcome::Failed) {
        entry.outcome = batch::EntryOutcome::Failed;
        entry.reason = result.reason;
        return entry;
    }
    entry.outcome = batch::EntryOutcome::Done;
    for (const std::string& file : {item.prompts, item.out_dir}) {
        auto digest = batch::digest_file(file);
        if (!digest) {
            entry.outcome = batch::EntryOutcome::Failed;
            entry.reason = digest.message();
            entry.outputs.clear();
            return entry;
        }
        entry.outputs.emplace_back(journal.relative_to_root(file), *digest);
    }
    return entry;
}

// Whether the video's folder holds what this run asks for: a store tracked in the same direction
// with a checkpoint of the same name, and every export asked for. The journal vouches for the
// files, not for the options: a rerun with other ones goes through the video again (a store of
// another direction is then refused in its failure line; a missing export is written).
bool made_as_asked(const video::TrackBatchItem& item, const TrackJobOptions& job,
                   const std::string& model_path) {
    namespace fs = std::filesystem;
    QFile meta(
        QString::fromStdString((fs::path(item.out_dir) / video::TrackStore::kMetaFile).string()));
    if (!meta.open(QIODevice::ReadOnly)) return false;
    const QJsonObject root = QJsonDocument::fromJson(meta.readAll()).object();
    if (root["run"]["direction"].toString().toStdString() !=
            video::track_direction_name(job.direction) ||
        root["source"]["model"].toString().toStdString() !=
            fs::path(model_path).filename().string())
        return false;
    for (video::TrackExportKind kind : job.exports)
        if (!fs::exists(fs::path(item.out_dir) / video::track_export_name(kind))) return false;
    return true;
}

VideoResult track_one(engine::Engine& engine, const TrackModel& model, const TrackJobOptions& job,
                      const video::TrackBatchItem& item) {
    QElapsedTimer clock;
    clock.start();
    VideoResult result;
    try {
        auto report = track_and_export(
            engine, model, job, item.video, item.prompts, item.out_dir,
            [&item](long long done, long long total) {
                std::cerr << "track: " << item.input << ": tracked " << done << "/" << total
                          << " frames" << std::endl;
            },
            [&item](const std::string& line) {
                std::cout << item.input << ": " << line << std::endl;
            });
        if (report) {
            result.outcome = Outcome::Tracked;
            result.frames = report->written;
        } else {
            result.reason = report.message();
        }
    } catch (const std::exception& e) {  // one video's fault never ends the batch
        result.reason = std::string("internal error: ") + e.what();
    }
    result.seconds = clock.nsecsElapsed() / 1e9;
    return result;
}

}  // namespace

int run_track_batch(const Args& args) {
    for (const char* key : {"video", "prompts", "out"})
        if (args.has(key))
            return fail("track: --input-dir and --" + std::string(key) +
                            " exclude each other (a folder of videos writes --output-dir/NAME)",
                        2);
    if (auto ok = require(args, "track", {"model", "input-dir", "output-dir"}); !ok)
        return fail(ok.message() + " (" + kTrackUsage + ")", 2);
    auto job = read_track_job_options(args);
    if (!job) return fail(job.message(), 2);
    auto shard = read_shard_options(args);
    if (!shard) return fail("track: " + shard.message(), 2);
    engine::EngineSettings settings = engine::EngineSettings::from_environment();
    sam::SamOptions model_options{settings.device, settings.precision};
    if (auto ok = read_device_options(args, model_options.device, model_options.precision); !ok)
        return fail(ok.message(), 2);
    const std::string input_dir = args.get("input-dir");
    const std::string prompts_dir = args.get("prompts-dir", input_dir);
    const std::string output_dir = args.get("output-dir");
    if (auto ok = check_output_folder("output-dir", output_dir); !ok) return fail(ok.message());
    auto listing = video::list_track_batch(input_dir, prompts_dir, output_dir);
    if (!listing) return fail(listing.message());

    std::vector<video::TrackBatchItem> items = listing->items;
    if (*shard)
        items.erase(std::remove_if(items.begin(), items.end(),
                                   [&](const video::TrackBatchItem& item) {
                                       return batch::shard_of(item.input, (*shard)->count) !=
                                              (*shard)->index;
                                   }),
                    items.end());
    std::error_code made;
    std::filesystem::create_directories(output_dir, made);
    if (made) return fail(output_dir + ": cannot create the folder (" + made.message() + ")");

    std::optional<batch::ShardJournal> journal;
    if (*shard) {
        auto opened =
            batch::ShardJournal::open(output_dir, "track", **shard, static_cast<int>(items.size()));
        if (!opened) return fail(opened.message());
        journal.emplace(std::move(*opened));
        std::cerr << "track: shard " << batch::to_string(**shard) << ": " << items.size() << " of "
                  << listing->items.size() << " video(s) of the folder" << std::endl;
    }
    Status journal_status = Ok{};
    const auto record = [&](const batch::JournalEntry& entry) {
        if (journal && journal_status) journal_status = journal->record(entry);
    };

    // What needs no model first: the videos an earlier run finished (their files checked by
    // size and hash), and those that cannot be tracked.
    std::vector<std::pair<const video::TrackBatchItem*, VideoResult>> results;
    std::vector<const video::TrackBatchItem*> work;
    for (const video::TrackBatchItem& item : items) {
        if (!item.problem.empty()) {
            results.push_back({&item, {Outcome::Failed, item.problem}});
            batch::JournalEntry entry;
            entry.input = item.input;
            entry.outcome = batch::EntryOutcome::Failed;
            entry.reason = item.problem;
            record(entry);
        } else if (journal && made_as_asked(item, *job, args.get("model")) &&
                   journal->still_finished(item.input, item.video)) {
            results.push_back({&item, {Outcome::Resumed}});
            record({item.input, batch::EntryOutcome::Resumed, {}, {}, {}, 0});
        } else {
            work.push_back(&item);
        }
    }
    int done = 0;
    const int total = static_cast<int>(items.size());
    const auto report = [&](const video::TrackBatchItem& item, const VideoResult& result) {
        std::cerr << "track: [" << ++done << "/" << total << "] " << item.input << ": "
                  << (result.outcome == Outcome::Tracked ? "tracked"
                      : result.outcome == Outcome::Resumed
                          ? "skipped (done in an earlier run; sizes and hashes checked)"
                          : "FAILED: ")
                  << result.reason << std::endl;
    };
    for (const auto& [item, result] : results) report(*item, result);

    // What the journal does not vouch for is written again, exports included.
    job->refresh_exports = journal.has_value();
    if (!work.empty()) {
        engine::Engine engine(settings);
        auto model = load_track_model(engine, args.get("model"), model_options, *job);
        if (!model) return fail(model.message());
        for (const video::TrackBatchItem* item : work) {
            VideoResult result = track_one(engine, *model, *job, *item);
            if (journal) {
                const batch::JournalEntry entry = journal_entry(*item, result, *journal);
                if (entry.outcome == batch::EntryOutcome::Failed && result.reason.empty())
                    result = {Outcome::Failed, entry.reason, 0, result.seconds};
                record(entry);
            }
            report(*item, result);
            results.push_back({item, result});
        }
    }
    if (journal && journal_status) journal_status = journal->finish();

    std::sort(results.begin(), results.end(),
              [](const auto& a, const auto& b) { return a.first->input < b.first->input; });
    int tracked = 0, resumed = 0, failed = 0;
    long long frames = 0;
    double seconds = 0;
    for (const auto& [item, result] : results) {
        tracked += result.outcome == Outcome::Tracked;
        resumed += result.outcome == Outcome::Resumed;
        failed += result.outcome == Outcome::Failed;
        frames += result.frames;
        seconds += result.seconds;
    }
    // A journal that could not be written makes the run a failure: its work would be redone.
    if (!journal_status) std::cerr << "track: " << journal_status.message() << "\n";
    std::cerr << "track: " << total << " video(s): " << tracked << " tracked (" << frames
              << " frame(s)";
    if (frames > 0 && seconds > 0) std::cerr << ", " << frames / seconds << " frames/s";
    std::cerr << "), " << resumed << " skipped (done in an earlier run), " << failed << " failed";
    if (listing->ignored)
        std::cerr << "; " << listing->ignored << " file(s) neither videos nor folders ignored";
    std::cerr << "\n";
    for (const auto& [item, result] : results)
        if (result.outcome == Outcome::Failed)
            std::cerr << "  " << item->input << ": " << result.reason << "\n";
    return failed || !journal_status ? 1 : 0;
}

}  // namespace ps::cli
