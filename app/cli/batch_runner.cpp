// Folder runner: a QThreadPool it owns, one task per image, results gathered under a mutex.
#include "batch_runner.h"

#include <QDir>
#include <QFileInfo>
#include <QImageReader>
#include <QMutex>
#include <QSet>
#include <QThread>
#include <QThreadPool>

#include <unistd.h>

#include <cstdio>
#include <exception>
#include <iostream>
#include <map>
#include <vector>

namespace ps::cli {

namespace {

enum class Outcome { Written, Skipped, Failed };

struct FileResult {
    Outcome outcome = Outcome::Failed;
    std::string reason;
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
    try {
        const Status status = per_file(input, output);
        if (!status) return {Outcome::Failed, status.message()};
        return {Outcome::Written, {}};
    } catch (const std::exception& e) {  // exceptions never cross the worker thread
        return {Outcome::Failed, std::string("internal error: ") + e.what()};
    } catch (...) {
        return {Outcome::Failed, "internal error"};
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

    QMutex lock;
    Progress progress(options.command, static_cast<int>(inputs.size()));
    int done = 0;
    for (const auto& [name, result] : results) progress.report(++done, name, result);
    {
        QThreadPool pool;  // owned here: nothing outlives run_batch
        pool.setMaxThreadCount(options.jobs > 0 ? options.jobs : QThread::idealThreadCount());
        for (const auto& [name, out_path] : work) {
            const QString in_path = input.filePath(name);
            pool.start([&, name = name, in_path, out_path = out_path] {
                const FileResult result =
                    process_one(in_path, out_path, options.overwrite, per_file);
                QMutexLocker locked(&lock);
                results[name] = result;
                progress.report(++done, name, result);
            });
        }
        pool.waitForDone();
    }

    int written = 0, skipped = 0, failed = 0;
    for (const auto& [name, result] : results) {
        written += result.outcome == Outcome::Written;
        skipped += result.outcome == Outcome::Skipped;
        failed += result.outcome == Outcome::Failed;
    }
    std::cerr << who << inputs.size() << " image(s): " << written << " written, " << skipped
              << " skipped (output exists; --overwrite replaces), " << failed << " failed";
    if (ignored) std::cerr << "; " << ignored << " file(s) not images by name ignored";
    std::cerr << "\n";
    for (const auto& [name, result] : results)
        if (result.outcome == Outcome::Failed)
            std::cerr << "  " << name.toStdString() << ": " << result.reason << "\n";
    return failed ? 1 : 0;
}

}  // namespace ps::cli
