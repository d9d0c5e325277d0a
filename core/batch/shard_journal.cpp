// The shard journal (JSON lines, appended with O_APPEND and fdatasync) and its summary.
#include "batch/shard_journal.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "io/atomic_file.h"

namespace ps::batch {
namespace {

constexpr const char* kSummarySchema = "photosynth-shard-summary/1";
// A summary rewritten this often while a run goes on: `merge` and a person watching see
// progress, and 100k images do not cost 100k rewrites.
constexpr auto kSummaryInterval = std::chrono::seconds(5);

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string host_name() {
    char name[256] = {};
    if (gethostname(name, sizeof(name) - 1) != 0) return "unknown-host";
    return name;
}

QString hex(uint64_t value) {
    return QString::number(static_cast<qulonglong>(value), 16).rightJustified(16, '0');
}

QJsonObject digest_json(const FileDigest& digest) {
    return {{"bytes", static_cast<qint64>(digest.bytes)}, {"fnv1a64", hex(digest.fnv1a)}};
}

FileDigest digest_from(const QJsonObject& json) {
    FileDigest digest;
    digest.bytes = json.value("bytes").toInteger(-1);
    bool ok = false;
    digest.fnv1a = json.value("fnv1a64").toString().toULongLong(&ok, 16);
    if (!ok) digest.bytes = -1;  // never equal to a real file's
    return digest;
}

std::optional<EntryOutcome> outcome_from(const QString& text) {
    for (EntryOutcome outcome :
         {EntryOutcome::Done, EntryOutcome::Failed, EntryOutcome::Skipped, EntryOutcome::Resumed})
        if (text == to_string(outcome)) return outcome;
    return std::nullopt;
}

QString q(const std::string& text) {
    return QString::fromStdString(text);
}

std::string s(const QJsonValue& value) {
    return value.toString().toStdString();
}

}  // namespace

namespace {

// Adds the file's bytes to `digest`; the error names the file.
Status add_file_bytes(const std::string& path, FileDigest& digest) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return make_error(ErrorKind::Io, path + ": cannot open (" + std::strerror(errno) + ")");
    std::vector<char> buffer(1 << 20);
    while (in) {
        in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        const std::streamsize got = in.gcount();
        if (got <= 0) break;
        digest.fnv1a =
            fnv1a_64(std::string_view(buffer.data(), static_cast<size_t>(got)), digest.fnv1a);
        digest.bytes += got;
    }
    if (in.bad()) return make_error(ErrorKind::Io, path + ": read error");
    return Ok{};
}

// A folder: every regular file under it, in order of relative path, each as its path, a NUL,
// its size and a NUL, then its bytes; so a renamed, added, removed or changed file changes it.
Status add_folder_bytes(const std::string& path, FileDigest& digest) {
    namespace fs = std::filesystem;
    std::error_code error;
    std::vector<std::string> files;
    for (fs::recursive_directory_iterator it(path, error), end; !error && it != end;
         it.increment(error))
        if (it->is_regular_file(error))
            files.push_back(fs::relative(it->path(), path, error).generic_string());
    if (error) return make_error(ErrorKind::Io, path + ": cannot list (" + error.message() + ")");
    std::sort(files.begin(), files.end());
    for (const std::string& file : files) {
        const std::string full = (fs::path(path) / file).string();
        const std::string header = file + '\0' + std::to_string(fs::file_size(full, error)) + '\0';
        if (error) return make_error(ErrorKind::Io, full + ": " + error.message());
        digest.fnv1a = fnv1a_64(header, digest.fnv1a);
        if (auto added = add_file_bytes(full, digest); !added) return added;
    }
    return Ok{};
}

}  // namespace

Result<FileDigest> digest_file(const std::string& path) {
    FileDigest digest;
    digest.bytes = 0;
    digest.fnv1a = fnv1a_64({});
    std::error_code error;
    const Status added = std::filesystem::is_directory(path, error) ? add_folder_bytes(path, digest)
                                                                    : add_file_bytes(path, digest);
    if (!added) return added.error();
    return digest;
}

const char* to_string(EntryOutcome outcome) {
    switch (outcome) {
        case EntryOutcome::Done:
            return "done";
        case EntryOutcome::Failed:
            return "failed";
        case EntryOutcome::Skipped:
            return "skipped";
        case EntryOutcome::Resumed:
            return "resumed";
    }
    return "?";
}

double ShardRun::images_per_second() const {
    return processed > 0 && last_ms > started_ms ? processed / seconds() : 0.0;
}

std::string shards_folder(const std::string& root) {
    return QDir(q(root)).filePath(".photosynth/shards").toStdString();
}

std::string summary_to_json(const ShardSummary& summary) {
    QJsonArray failures;
    for (const auto& [input, reason] : summary.failures)
        failures.append(QJsonObject{{"file", q(input)}, {"reason", q(reason)}});
    QJsonArray runs;
    for (const ShardRun& run : summary.runs)
        runs.append(QJsonObject{{"id", q(run.id)},
                                {"host", q(run.host)},
                                {"started_ms", static_cast<qint64>(run.started_ms)},
                                {"last_ms", static_cast<qint64>(run.last_ms)},
                                {"ended", run.ended},
                                {"processed", run.processed},
                                {"failed", run.failed},
                                {"skipped", run.skipped},
                                {"resumed", run.resumed},
                                {"seconds", run.seconds()},
                                {"images_per_second", run.images_per_second()}});
    const QJsonObject json{{"schema", kSummarySchema},     {"command", q(summary.command)},
                           {"shard", summary.shard.index}, {"shards", summary.shard.count},
                           {"inputs", summary.inputs},     {"done", summary.done},
                           {"failed", summary.failed},     {"skipped", summary.skipped},
                           {"pending", summary.pending()}, {"complete", summary.complete()},
                           {"failures", failures},         {"runs", runs}};
    return QJsonDocument(json).toJson(QJsonDocument::Indented).toStdString();
}

Result<ShardSummary> summary_from_json(const std::string& json, const std::string& context) {
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(QByteArray::fromStdString(json), &error);
    if (error.error != QJsonParseError::NoError || !document.isObject())
        return make_error(ErrorKind::Format,
                          context + ": not JSON (" + error.errorString().toStdString() + ")");
    const QJsonObject root = document.object();
    if (root.value("schema").toString() != kSummarySchema)
        return make_error(ErrorKind::Format,
                          context + ": not a shard summary (schema " + kSummarySchema + ")");
    ShardSummary summary;
    summary.command = s(root.value("command"));
    summary.shard = {root.value("shard").toInt(-1), root.value("shards").toInt(0)};
    if (summary.shard.count < 1 || summary.shard.index < 0 ||
        summary.shard.index >= summary.shard.count)
        return make_error(ErrorKind::Format, context + ": shard/shards out of range");
    summary.inputs = root.value("inputs").toInt();
    summary.done = root.value("done").toInt();
    summary.failed = root.value("failed").toInt();
    summary.skipped = root.value("skipped").toInt();
    for (const QJsonValue& failure : root.value("failures").toArray())
        summary.failures.emplace_back(s(failure["file"]), s(failure["reason"]));
    for (const QJsonValue& value : root.value("runs").toArray()) {
        const QJsonObject run_json = value.toObject();
        ShardRun run;
        run.id = s(run_json["id"]);
        run.host = s(run_json["host"]);
        run.started_ms = run_json["started_ms"].toInteger();
        run.last_ms = run_json["last_ms"].toInteger();
        run.ended = run_json["ended"].toBool();
        run.processed = run_json["processed"].toInt();
        run.failed = run_json["failed"].toInt();
        run.skipped = run_json["skipped"].toInt();
        run.resumed = run_json["resumed"].toInt();
        summary.runs.push_back(run);
    }
    return summary;
}

Result<ShardJournal> ShardJournal::open(const std::string& root, const std::string& command,
                                        const Shard& shard, int inputs) {
    ShardJournal journal;
    journal.root_ = QFileInfo(q(root)).absoluteFilePath().toStdString();
    journal.command_ = command;
    journal.shard_ = shard;
    journal.inputs_ = inputs;
    const std::string folder = shards_folder(root);
    if (auto made = io::make_directories(folder); !made) return made.error();
    const std::string stem = folder + "/" + shard_file_stem(shard);
    journal.journal_path_ = stem + ".jsonl";
    journal.summary_path_ = stem + ".json";

    std::ifstream in(journal.journal_path_);
    std::string line;
    while (std::getline(in, line)) {
        // A line cut short by a kill is not JSON: ignored, as if never written.
        const QJsonDocument document = QJsonDocument::fromJson(QByteArray::fromStdString(line));
        if (!document.isObject()) continue;
        const QJsonObject json = document.object();
        const std::string run_id = s(json["run"]);
        const int64_t time_ms = json["t"].toInteger();
        const QString event = json["event"].toString();
        if (event == "start") {
            ShardRun run;
            run.id = run_id;
            run.host = s(json["host"]);
            run.started_ms = run.last_ms = time_ms;
            journal.runs_.push_back(run);
            continue;
        }
        if (event == "end") {
            for (ShardRun& run : journal.runs_)
                if (run.id == run_id) run.ended = true, run.last_ms = time_ms;
            continue;
        }
        const std::optional<EntryOutcome> outcome = outcome_from(event);
        if (!outcome) continue;
        JournalEntry entry;
        entry.outcome = *outcome;
        entry.input = s(json["input"]);
        entry.reason = s(json["reason"]);
        entry.ms = json["ms"].toDouble();
        entry.input_digest = digest_from(json["input_digest"].toObject());
        for (const QJsonValue& output : json["outputs"].toArray())
            entry.outputs.emplace_back(s(output["file"]), digest_from(output.toObject()));
        journal.apply(run_id, time_ms, entry);
    }

    journal.fd_ =
        ::open(journal.journal_path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (journal.fd_ < 0)
        return make_error(ErrorKind::Io, journal.journal_path_ + ": cannot open for appending (" +
                                             std::strerror(errno) + ")");
    const int64_t start = now_ms();
    const std::string host = host_name();
    journal.run_id_ = host + ":" + std::to_string(getpid()) + ":" + std::to_string(start);
    ShardRun run;
    run.id = journal.run_id_;
    run.host = host;
    run.started_ms = run.last_ms = start;
    journal.runs_.push_back(run);
    const QJsonObject line_json{{"run", q(journal.run_id_)}, {"t", static_cast<qint64>(start)},
                                {"event", "start"},          {"host", q(host)},
                                {"command", q(command)},     {"inputs", inputs}};
    if (auto ok = journal.append_line(
            QJsonDocument(line_json).toJson(QJsonDocument::Compact).toStdString());
        !ok)
        return ok.error();
    if (auto ok = journal.write_summary(); !ok) return ok.error();
    journal.last_summary_ = std::chrono::steady_clock::now();
    return journal;
}

ShardJournal::ShardJournal(ShardJournal&& other) noexcept
    : root_(std::move(other.root_)),
      command_(std::move(other.command_)),
      journal_path_(std::move(other.journal_path_)),
      summary_path_(std::move(other.summary_path_)),
      shard_(other.shard_),
      inputs_(other.inputs_),
      fd_(other.fd_),
      run_id_(std::move(other.run_id_)),
      latest_(std::move(other.latest_)),
      runs_(std::move(other.runs_)),
      last_summary_(other.last_summary_) {
    other.fd_ = -1;
}

ShardJournal::~ShardJournal() {
    if (fd_ >= 0) ::close(fd_);
}

void ShardJournal::apply(const std::string& run_id, int64_t time_ms, const JournalEntry& entry) {
    for (ShardRun& run : runs_) {
        if (run.id != run_id) continue;
        run.last_ms = std::max(run.last_ms, time_ms);
        run.processed += entry.outcome == EntryOutcome::Done;
        run.failed += entry.outcome == EntryOutcome::Failed;
        run.skipped += entry.outcome == EntryOutcome::Skipped;
        run.resumed += entry.outcome == EntryOutcome::Resumed;
    }
    if (entry.outcome != EntryOutcome::Resumed) latest_[entry.input] = entry;
}

bool ShardJournal::still_finished(const std::string& input, const std::string& input_path) const {
    // Not hashed when there is no line to compare with: a fresh shard reads no inputs twice.
    if (latest_.find(input) == latest_.end()) return false;
    auto input_now = digest_file(input_path);
    return input_now && still_finished(input, *input_now);
}

bool ShardJournal::still_finished(const std::string& input, const FileDigest& input_now) const {
    const auto it = latest_.find(input);
    if (it == latest_.end()) return false;
    const JournalEntry& entry = it->second;
    if (entry.outcome != EntryOutcome::Done && entry.outcome != EntryOutcome::Skipped) return false;
    if (input_now != entry.input_digest) return false;
    const QDir root(q(root_));
    for (const auto& [file, digest] : entry.outputs) {
        auto now = digest_file(root.filePath(q(file)).toStdString());
        if (!now || *now != digest) return false;
    }
    return true;
}

std::string ShardJournal::relative_to_root(const std::string& path) const {
    return QDir(q(root_)).relativeFilePath(QFileInfo(q(path)).absoluteFilePath()).toStdString();
}

Status ShardJournal::append_line(const std::string& line) {
    const std::string bytes = line + "\n";
    // One write of a whole line with O_APPEND: lines of concurrent writers never interleave.
    const ssize_t written = ::write(fd_, bytes.data(), bytes.size());
    if (written != static_cast<ssize_t>(bytes.size()))
        return make_error(ErrorKind::Io,
                          journal_path_ + ": cannot append (" + std::strerror(errno) + ")");
    if (::fdatasync(fd_) != 0)
        return make_error(ErrorKind::Io,
                          journal_path_ + ": cannot sync (" + std::strerror(errno) + ")");
    return Ok{};
}

Status ShardJournal::record(const JournalEntry& entry) {
    const int64_t time_ms = now_ms();
    QJsonObject json{{"run", q(run_id_)},
                     {"t", static_cast<qint64>(time_ms)},
                     {"event", to_string(entry.outcome)},
                     {"input", q(entry.input)}};
    if (!entry.reason.empty()) json["reason"] = q(entry.reason);
    if (entry.input_digest.bytes >= 0) json["input_digest"] = digest_json(entry.input_digest);
    if (!entry.outputs.empty()) {
        QJsonArray outputs;
        for (const auto& [file, digest] : entry.outputs) {
            QJsonObject output = digest_json(digest);
            output["file"] = q(file);
            outputs.append(output);
        }
        json["outputs"] = outputs;
    }
    if (entry.ms > 0) json["ms"] = entry.ms;
    if (auto ok = append_line(QJsonDocument(json).toJson(QJsonDocument::Compact).toStdString());
        !ok)
        return ok;
    apply(run_id_, time_ms, entry);
    if (std::chrono::steady_clock::now() - last_summary_ < kSummaryInterval) return Ok{};
    last_summary_ = std::chrono::steady_clock::now();
    return write_summary();
}

Status ShardJournal::finish() {
    const int64_t time_ms = now_ms();
    const QJsonObject json{
        {"run", q(run_id_)}, {"t", static_cast<qint64>(time_ms)}, {"event", "end"}};
    if (auto ok = append_line(QJsonDocument(json).toJson(QJsonDocument::Compact).toStdString());
        !ok)
        return ok;
    for (ShardRun& run : runs_)
        if (run.id == run_id_) run.ended = true, run.last_ms = time_ms;
    return write_summary();
}

ShardSummary ShardJournal::summary() const {
    ShardSummary summary;
    summary.command = command_;
    summary.shard = shard_;
    summary.inputs = inputs_;
    for (const auto& [input, entry] : latest_) {
        summary.done += entry.outcome == EntryOutcome::Done;
        summary.skipped += entry.outcome == EntryOutcome::Skipped;
        if (entry.outcome == EntryOutcome::Failed) {
            ++summary.failed;
            summary.failures.emplace_back(input, entry.reason);
        }
    }
    summary.runs = runs_;
    return summary;
}

Status ShardJournal::write_summary() const {
    return io::atomic_write(summary_path_, summary_to_json(summary()));
}

}  // namespace ps::batch
