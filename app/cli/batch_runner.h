// Folder mode shared by photosynth-cli commands: every image of a folder through one function,
// on worker threads, with progress, skipping, and a summary of what failed.
#pragma once

#include <QString>

#include <functional>
#include <string>

#include "common/result.h"

namespace ps::cli {

struct BatchOptions {
    QString command;         // names the command in messages, e.g. "effect"
    int jobs = 0;            // worker threads; 0 = QThread::idealThreadCount()
    bool overwrite = false;  // else an existing output is skipped and left untouched
    QString output_suffix = QStringLiteral(".png");  // output = input's base name + suffix
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
int run_batch(const QString& input_dir, const QString& output_dir, const BatchOptions& options,
              const BatchFileFunction& per_file);

// "--jobs" text: a whole number from 1 to 256, else a message naming the value.
Result<int> parse_jobs(const std::string& text);

}  // namespace ps::cli
