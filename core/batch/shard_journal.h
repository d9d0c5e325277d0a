// A shard's record of its work, in <root>/.photosynth/shards/: the journal "<I>-of-<N>.jsonl"
// (one JSON line per image finished, failed, skipped or resumed, and one per run's start and
// end, appended and fsynced line by line, so a SIGKILL loses at most the line being written,
// which readers ignore) and the summary "<I>-of-<N>.json" (counts, failures and each run's
// throughput, rewritten atomically from the journal now and then and at the end of a run).
// Resuming trusts neither a file's existence nor its name: an image counts as finished only
// when its journal line is there and the input and every output still have the size and FNV-1a
// hash recorded then; anything else is done again.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "batch/shard.h"
#include "common/result.h"

namespace ps::batch {

struct FileDigest {
    int64_t bytes = -1;
    uint64_t fnv1a = 0;  // fnv1a_64 of the whole content
    bool operator==(const FileDigest& other) const {
        return bytes == other.bytes && fnv1a == other.fnv1a;
    }
    bool operator!=(const FileDigest& other) const { return !(*this == other); }
};

// The file's size and hash, read in pieces; the error names the file. A folder (a video's frame
// folder, a store folder) digests every file under it with its relative path: `bytes` is their
// total size.
Result<FileDigest> digest_file(const std::string& path);

enum class EntryOutcome { Done, Failed, Skipped, Resumed };
const char* to_string(EntryOutcome outcome);

struct JournalEntry {
    std::string input;  // relative to the input folder, as the shard split names it
    EntryOutcome outcome = EntryOutcome::Done;
    std::string reason;  // a failure's reason, or why it was skipped
    FileDigest input_digest;
    std::vector<std::pair<std::string, FileDigest>> outputs;  // paths relative to the root
    double ms = 0;
};

// One run of a shard (a task's attempt): from its journal lines.
struct ShardRun {
    std::string id;                       // "<host>:<pid>:<start ms>"
    std::string host;                     // where it ran
    int64_t started_ms = 0, last_ms = 0;  // Unix time of its start and its latest line
    bool ended = false;                   // false: still running, or killed
    int processed = 0, failed = 0, skipped = 0, resumed = 0;
    double seconds() const { return static_cast<double>(last_ms - started_ms) / 1000.0; }
    // Images done per second of this run's wall clock (0 when it did none).
    double images_per_second() const;
};

struct ShardSummary {
    std::string command;
    Shard shard;
    int inputs = 0;  // the shard's share of the batch, as its latest run counted them
    int done = 0, failed = 0, skipped = 0;
    int pending() const { return inputs - done - failed - skipped; }
    bool complete() const { return pending() <= 0; }
    std::vector<std::pair<std::string, std::string>> failures;  // input, reason; sorted
    std::vector<ShardRun> runs;                                 // in start order
};

// "<root>/.photosynth/shards"
std::string shards_folder(const std::string& root);

std::string summary_to_json(const ShardSummary& summary);
Result<ShardSummary> summary_from_json(const std::string& json, const std::string& context);

class ShardJournal {
  public:
    // Reads what earlier runs of this shard recorded (the journal's torn last line ignored) and
    // opens it for appending this run's lines; `inputs` is the shard's share. Creates the folder.
    static Result<ShardJournal> open(const std::string& root, const std::string& command,
                                     const Shard& shard, int inputs);
    ShardJournal(ShardJournal&& other) noexcept;
    ShardJournal& operator=(ShardJournal&& other) = delete;
    ShardJournal(const ShardJournal&) = delete;
    ~ShardJournal();

    const std::string& root() const { return root_; }  // absolute
    // `path` as the journal names outputs: relative to the root (absolute when given relative
    // to the working folder).
    std::string relative_to_root(const std::string& path) const;
    // True when an earlier run finished `input` (done, or skipped) and the input file (at
    // `input_path`) and every output it recorded still have the recorded size and hash.
    bool still_finished(const std::string& input, const std::string& input_path) const;
    // The same with the input's digest taken by the caller: a video, whose frames are the
    // inputs, is hashed once per run rather than once per frame.
    bool still_finished(const std::string& input, const FileDigest& input_now) const;
    // The shard's share once the run knows it better (a video whose container guessed its frame
    // count): the summary's pending count follows it.
    void set_inputs(int inputs) { inputs_ = inputs; }

    // Appends the entry as this run's line (and fsyncs); the summary is rewritten when the last
    // rewrite is more than a few seconds old.
    Status record(const JournalEntry& entry);
    // The run's end line and the final summary.
    Status finish();

    ShardSummary summary() const;
    Status write_summary() const;

  private:
    ShardJournal() = default;
    Status append_line(const std::string& line);
    void apply(const std::string& run_id, int64_t time_ms, const JournalEntry& entry);

    std::string root_, command_, journal_path_, summary_path_;
    Shard shard_;
    int inputs_ = 0;
    int fd_ = -1;
    std::string run_id_;
    std::map<std::string, JournalEntry> latest_;  // by input: the last done/failed/skipped line
    std::vector<ShardRun> runs_;
    std::chrono::steady_clock::time_point last_summary_;
};

}  // namespace ps::batch
