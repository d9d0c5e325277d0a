// Folder mode shared by photosynth-cli commands: every image of a folder through one function,
// on worker threads, with progress, skipping, and a summary of what failed.
#pragma once

#include <QString>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "batch/shard.h"
#include "common/result.h"

namespace ps::cli {

struct BatchOptions {
    QString command;         // names the command in messages, e.g. "effect"
    int jobs = 0;            // worker threads; 0 = QThread::idealThreadCount()
    bool overwrite = false;  // else an existing output is skipped and left untouched
    QString output_suffix = QStringLiteral(".png");  // output = input's base name + suffix
    // One shard of the folder (--shard I/N, a Slurm array task): only the inputs it owns, a
    // journal and summary in <output_dir>/.photosynth/shards/, and resuming by the journal's
    // sizes and hashes instead of by the outputs' existence (batch/shard_journal.h).
    std::optional<batch::Shard> shard;
    // The files per_file writes for `output` besides it (remove-bg's matte), hashed into the
    // shard journal with it.
    std::function<std::vector<QString>(const QString& output)> extra_outputs;
};

// Makes `output_path` from the image at `input_path`. Runs on a worker thread: it must not touch
// shared state without a lock, and it must write atomically (io::write_png, write_rgba_png and
// QSaveFile do), so that a failure or a kill never leaves a partial output. Exceptions it throws
// are caught and count as that file's failure.
using BatchFileFunction =
    std::function<Status(const QString& input_path, const QString& output_path)>;

// Runs `per_file` on every file of `input_dir` (not recursive, hidden files left out) whose
// suffix names an image format Qt reads, sorted by name, writing into `output_dir` (created if
// missing; must differ from input_dir, so outputs are never read back as inputs). Existing
// outputs are skipped unless options.overwrite. Two inputs with one output name (a.jpg, a.png):
// the later fails. Progress goes to stderr: a "\r[#####     ] 12/40" bar when stderr is a
// terminal, else one line per file. The summary (stderr) lists failures as "file: reason".
// Returns the exit code: 0 when nothing failed, 1 when any file failed or the folders are
// unusable (no images is not a failure).
// With options.shard: the same, over the inputs the shard owns (batch::shard_of on the file
// name; output-name clashes are settled over the whole folder first, so shards never write one
// file twice). An input counts as finished only when its journal line says so and the input and
// outputs still have the recorded size and hash; everything else is (re)done, replacing any
// output there; --overwrite redoes all.
int run_batch(const QString& input_dir, const QString& output_dir, const BatchOptions& options,
              const BatchFileFunction& per_file);

// "--jobs" text: a whole number from 1 to 256, else a message naming the value.
Result<int> parse_jobs(const std::string& text);

}  // namespace ps::cli
