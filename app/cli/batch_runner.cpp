// Folder runner: a QThreadPool it owns, one task per image, results gathered under a mutex.
#include "batch_runner.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QImageReader>
#include <QMutex>
#include <QSet>
#include <QThread>
#include <QThreadPool>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "batch/shard_journal.h"
#include "io/temp_name.h"

namespace ps::cli {

namespace {

// Resumed: a shard's input that an earlier run finished, its files checked by size and hash.
enum class Outcome { Written, Skipped, Resumed, Failed };

struct FileResult {
    Outcome outcome = Outcome::Failed;
    std::string reason;
    double ms = 0;
};

// What Qt's plugins read, and always the image suffixes the project and the app list: without
// the plugin a .webp or .tif is then reported with the missing package, not silently skipped.
QSet<QString> image_suffixes() {
    QSet<QString> suffixes{"png", "jpg", "jpeg", "bmp", "tif", "tiff", "webp"};
    for (const QByteArray& format : QImageReader::supportedImageFormats())
        suffixes.insert(QString::fromLatin1(format).toLower());
    return suffixes;
}

// Progress on stderr, serialised by the caller's lock.
class Progress {
  public:
    Progress(QString command, int total)
        : command_(std::move(command)), total_(total), bar_(isatty(STDERR_FILENO) != 0) {}

    void report(int done, const QString& name, const FileResult& result) {
        if (bar_) {
            constexpr int kWidth = 30;
            const int filled = total_ ? done * kWidth / total_ : kWidth;
            std::cerr << "\r[" << std::string(filled, '#') << std::string(kWidth - filled, ' ')
                      << "] " << done << "/" << total_ << std::flush;
            if (done == total_) std::cerr << "\n";
            return;
        }
        const char* what = result.outcome == Outcome::Written   ? "written"
                           : result.outcome == Outcome::Skipped ? "skipped (output exists)"
                           : result.outcome == Outcome::Resumed
                               ? "skipped (done in an earlier run; sizes and "
                                 "hashes checked)"
                               : "FAILED: ";
        std::cerr << command_.toStdString() << ": [" << done << "/" << total_ << "] "
                  << name.toStdString() << ": " << what
                  << (result.outcome == Outcome::Failed ? result.reason : "") << "\n";
    }

  private:
    QString command_;
    int total_;
    bool bar_;
};

FileResult process_one(const QString& input, const QString& output, bool overwrite,
                       const BatchFileFunction& per_file) {
    if (!overwrite && QFileInfo::exists(output)) return {Outcome::Skipped, {}};
    QElapsedTimer clock;
    clock.start();
    try {
        const Status status = per_file(input, output);
        if (!status) return {Outcome::Failed, status.message()};
        return {Outcome::Written, {}, static_cast<double>(clock.nsecsElapsed()) / 1e6};
    } catch (const std::exception& e) {  // exceptions never cross the worker thread
        return {Outcome::Failed, std::string("internal error: ") + e.what()};
    } catch (...) {
        return {Outcome::Failed, "internal error"};
    }
}

// The journal line of a finished input: its size and hash and those of every file written for
// it, paths relative to the journal's root. A file that cannot be hashed fails the input.
batch::JournalEntry journal_entry(const QString& name, const QString& input, const QString& output,
                                  const BatchOptions& options, const batch::ShardJournal& journal,
                                  FileResult& result) {
    batch::JournalEntry entry;
    entry.input = name.toStdString();
    entry.ms = result.ms;
    if (auto digest = batch::digest_file(input.toStdString())) entry.input_digest = *digest;
    if (result.outcome == Outcome::Failed) {
        entry.outcome = batch::EntryOutcome::Failed;
        entry.reason = result.reason;
        return entry;
    }
    entry.outcome = batch::EntryOutcome::Done;
    QStringList outputs{output};
    if (options.extra_outputs)
        for (const QString& extra : options.extra_outputs(output)) outputs << extra;
    for (const QString& file : outputs) {
        auto digest = batch::digest_file(file.toStdString());
        if (!digest) {
            result = {Outcome::Failed, digest.message()};
            entry.outcome = batch::EntryOutcome::Failed;
            entry.reason = result.reason;
            entry.outputs.clear();
            return entry;
        }
        entry.outputs.emplace_back(journal.relative_to_root(file.toStdString()), *digest);
    }
    return entry;
}

// The temporary files (".<name>.tmp-<pid>-XXXXXX") that a killed earlier run of this shard left
// beside its outputs. Only this shard writes those names, so whatever pid they carry (another
// node's, on a shared file system) no process is still writing them.
void remove_stale_temp_files(const std::vector<std::pair<QString, QString>>& work,
                             const BatchOptions& options) {
    std::map<QString, std::set<std::string>> targets_by_folder;
    for (const auto& [name, out_path] : work) {
        QStringList outputs{out_path};
        if (options.extra_outputs)
            for (const QString& extra : options.extra_outputs(out_path)) outputs << extra;
        for (const QString& output : outputs) {
            const QFileInfo info(output);
            targets_by_folder[info.absolutePath()].insert(info.fileName().toStdString());
        }
    }
    for (const auto& [folder, targets] : targets_by_folder) {
        const QDir dir(folder);
        for (const QString& file : dir.entryList({".*.tmp-*"}, QDir::Files | QDir::Hidden)) {
            const auto temp = io::parse_temp_name(file.toStdString());
            if (temp && targets.count(temp->target_name)) QFile::remove(dir.filePath(file));
        }
    }
}

}  // namespace

Result<int> parse_jobs(const std::string& text) {
    bool ok = false;
    const int jobs = QString::fromStdString(text).toInt(&ok);
    if (!ok || jobs < 1 || jobs > 256)
        return make_error(ErrorKind::InvalidArgument,
                          "--jobs " + text + ": expected a whole number from 1 to 256");
    return jobs;
}

int run_batch(const QString& input_dir, const QString& output_dir, const BatchOptions& options,
              const BatchFileFunction& per_file) {
    const std::string who = options.command.toStdString() + ": ";
    const QDir input(input_dir);
    if (!input.exists()) {
        std::cerr << who << input_dir.toStdString() << ": no such folder\n";
        return 1;
    }
    if (!QDir().mkpath(output_dir)) {
        std::cerr << who << output_dir.toStdString() << ": cannot create the folder\n";
        return 1;
    }
    const QDir output(output_dir);
    if (input.canonicalPath() == output.canonicalPath()) {
        std::cerr << who << "--output-dir must differ from --input-dir, so outputs are never "
                  << "taken for inputs\n";
        return 1;
    }

    const QSet<QString> suffixes = image_suffixes();
    QStringList inputs;
    int ignored = 0;
    for (const QFileInfo& file : input.entryInfoList(QDir::Files, QDir::Name)) {
        if (suffixes.contains(file.suffix().toLower()))
            inputs << file.fileName();
        else
            ++ignored;
    }

    // Results by input name, so the summary reads in folder order whatever the threads did.
    std::map<QString, FileResult> results;
    std::map<QString, QString> owner_of_output;
    std::vector<std::pair<QString, QString>> work;  // input name, output path
    // Clashes over the whole folder, before the split: whichever shard owns the later name
    // fails it, and no two shards ever write one output.
    for (const QString& name : inputs) {
        const QString out_name = QFileInfo(name).completeBaseName() + options.output_suffix;
        auto [it, fresh] = owner_of_output.emplace(out_name, name);
        if (!fresh) {
            results[name] = {Outcome::Failed, "same output name " + out_name.toStdString() +
                                                  " as " + it->second.toStdString()};
            continue;
        }
        work.emplace_back(name, output.filePath(out_name));
    }
    std::optional<batch::ShardJournal> journal;
    if (options.shard) {
        const auto owned = [&](const QString& name) {
            return batch::shard_of(name.toStdString(), options.shard->count) ==
                   options.shard->index;
        };
        inputs.erase(std::remove_if(inputs.begin(), inputs.end(),
                                    [&](const QString& name) { return !owned(name); }),
                     inputs.end());
        for (auto it = results.begin(); it != results.end();)
            it = owned(it->first) ? std::next(it) : results.erase(it);
        work.erase(std::remove_if(work.begin(), work.end(),
                                  [&](const auto& item) { return !owned(item.first); }),
                   work.end());
        auto opened =
            batch::ShardJournal::open(output_dir.toStdString(), options.command.toStdString(),
                                      *options.shard, static_cast<int>(inputs.size()));
        if (!opened) {
            std::cerr << who << opened.message() << "\n";
            return 1;
        }
        journal.emplace(std::move(*opened));
        std::cerr << who << "shard " << batch::to_string(*options.shard) << ": " << inputs.size()
                  << " image(s) of the folder\n";
        remove_stale_temp_files(work, options);
        // Finished inputs found before the workers start: the journal is not read under them.
        if (!options.overwrite)
            for (auto it = work.begin(); it != work.end();) {
                if (!journal->still_finished(it->first.toStdString(),
                                             input.filePath(it->first).toStdString())) {
                    ++it;
                    continue;
                }
                results[it->first] = {Outcome::Resumed, {}};
                it = work.erase(it);
            }
    }

    QMutex lock;
    Progress progress(options.command, static_cast<int>(inputs.size()));
    int done = 0;
    Status journal_status = Ok{};
    const auto record = [&](const batch::JournalEntry& entry) {  // under `lock`
        if (!journal || !journal_status) return;
        journal_status = journal->record(entry);
    };
    for (const auto& [name, result] : results) {
        if (result.outcome == Outcome::Resumed)
            record({name.toStdString(), batch::EntryOutcome::Resumed, {}, {}, {}, 0});
        else if (journal)
            record({name.toStdString(), batch::EntryOutcome::Failed, result.reason, {}, {}, 0});
        progress.report(++done, name, result);
    }
    {
        QThreadPool pool;  // owned here: nothing outlives run_batch
        pool.setMaxThreadCount(options.jobs > 0 ? options.jobs : QThread::idealThreadCount());
        for (const auto& [name, out_path] : work) {
            const QString in_path = input.filePath(name);
            pool.start([&, name = name, in_path, out_path = out_path] {
                // A shard replaces what its journal does not vouch for.
                FileResult result =
                    process_one(in_path, out_path, options.overwrite || journal, per_file);
                std::optional<batch::JournalEntry> entry;
                if (journal)
                    entry = journal_entry(name, in_path, out_path, options, *journal, result);
                QMutexLocker locked(&lock);
                if (entry) record(*entry);
                results[name] = result;
                progress.report(++done, name, result);
            });
        }
        pool.waitForDone();
    }
    if (journal && journal_status) journal_status = journal->finish();

    int written = 0, skipped = 0, resumed = 0, failed = 0;
    for (const auto& [name, result] : results) {
        written += result.outcome == Outcome::Written;
        skipped += result.outcome == Outcome::Skipped;
        resumed += result.outcome == Outcome::Resumed;
        failed += result.outcome == Outcome::Failed;
    }
    // A journal that could not be written makes the run a failure: its work would be redone.
    if (!journal_status) std::cerr << who << journal_status.message() << "\n";
    std::cerr << who << inputs.size() << " image(s): " << written << " written, ";
    if (journal)
        std::cerr << resumed << " skipped (done in an earlier run), ";
    else
        std::cerr << skipped << " skipped (output exists; --overwrite replaces), ";
    std::cerr << failed << " failed";
    if (ignored) std::cerr << "; " << ignored << " file(s) not images by name ignored";
    std::cerr << "\n";
    for (const auto& [name, result] : results)
        if (result.outcome == Outcome::Failed)
            std::cerr << "  " << name.toStdString() << ": " << result.reason << "\n";
    return failed || !journal_status ? 1 : 0;
}

}  // namespace ps::cli
