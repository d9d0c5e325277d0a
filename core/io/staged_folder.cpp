// All-or-nothing outputs of several files (see staged_folder.h): stage beside the target, commit
// by rename, and let the next run clean up or finish what a killed one left.
#include "io/staged_folder.h"

#include "io/temp_name.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>
#include <vector>

#include "io/atomic_file.h"

namespace ps::io {
namespace {

namespace fs = std::filesystem;

constexpr const char* kCommitSuffix = ".commit";
// A temporary file without a pid in its name (older writers) is abandoned once this old: an
// atomic write takes milliseconds.
constexpr auto kStaleWithoutPid = std::chrono::minutes(10);

Error io_error(const std::string& path, const std::string& what, int error_number) {
    return make_error(ErrorKind::Io, path + ": " + what + " (" + std::strerror(error_number) + ")");
}

// Symbolic links resolved: the staging folder must sit beside the real folder, on its file
// system, or the commit's renames would fail half-way (EXDEV).
std::string absolute_target(const std::string& target) {
    fs::path path = fs::absolute(fs::path(target)).lexically_normal();
    if (path.filename().empty() && path.has_parent_path()) path = path.parent_path();
    std::error_code error;
    const fs::path resolved = fs::weakly_canonical(path, error);
    return (error || resolved.empty() ? path : resolved).string();
}

// `root` and every folder below it (not following links).
std::vector<std::string> folders_under(const std::string& root) {
    std::vector<std::string> folders{root};
    std::error_code error;
    for (fs::recursive_directory_iterator it(root, error), end; !error && it != end;
         it.increment(error)) {
        std::error_code entry_error;
        if (it->is_directory(entry_error) && !it->is_symlink(entry_error))
            folders.push_back(it->path().string());
    }
    return folders;
}

std::string random_part() {
    static const char kAlphabet[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    std::random_device device;
    std::mt19937 generator(device());
    std::uniform_int_distribution<int> pick(0, static_cast<int>(sizeof kAlphabet) - 2);
    std::string text;
    for (int i = 0; i < kTempRandomLength; ++i) text += kAlphabet[pick(generator)];
    return text;
}

// The first staged entry whose place in the target has the other type (a file where a folder
// is staged, or the reverse): moving it would fail half-way through the commit.
std::string find_conflict(const fs::path& from, const fs::path& to) {
    std::error_code error;
    for (const fs::directory_entry& entry : fs::directory_iterator(from, error)) {
        const fs::path destination = to / entry.path().filename();
        const fs::file_status status = fs::symlink_status(destination, error);
        if (!fs::exists(status)) continue;
        const bool staged_folder = entry.is_directory(error) && !entry.is_symlink(error);
        if (staged_folder != fs::is_directory(status)) return destination.string();
        if (staged_folder) {
            const std::string deeper = find_conflict(entry.path(), destination);
            if (!deeper.empty()) return deeper;
        }
    }
    return {};
}

// Moves every entry of `from` into `to`, replacing files; a folder missing in `to` moves whole.
// With best_effort, goes on after a failure (finishing a killed run's commit).
Status move_tree(const fs::path& from, const fs::path& to, bool best_effort) {
    std::error_code list_error, error;
    Status result = Ok{};
    for (const fs::directory_entry& entry : fs::directory_iterator(from, list_error)) {
        const fs::path destination = to / entry.path().filename();
        const bool staged_folder = entry.is_directory(error) && !entry.is_symlink(error);
        if (staged_folder && fs::is_directory(fs::symlink_status(destination, error))) {
            Status moved = move_tree(entry.path(), destination, best_effort);
            if (!moved && !best_effort) return moved;
            if (!moved && result) result = moved;
            continue;
        }
        if (::rename(entry.path().c_str(), destination.c_str()) != 0) {
            Status failed = io_error(destination.string(),
                                     "cannot move " + entry.path().string() + " here", errno);
            if (!best_effort) return failed;
            if (result) result = failed;
        }
    }
    if (list_error)
        return make_error(ErrorKind::Io,
                          from.string() + ": cannot list (" + list_error.message() + ")");
    sync_directory(to.string());
    return result;
}

// Finishes a commit whose marker was written: the target gets every staged file.
void roll_forward(const fs::path& staging, const fs::path& target) {
    std::error_code error;
    if (!fs::exists(fs::symlink_status(target, error))) {
        if (::rename(staging.c_str(), target.c_str()) == 0) return;
    }
    move_tree(staging, target, /*best_effort=*/true);
    fs::remove_all(staging, error);
}

}  // namespace

bool process_alive(long pid) {
    if (pid <= 0) return false;
    return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

int clean_stale_staging(const std::string& target_path) {
    const fs::path target(absolute_target(target_path));
    const std::string target_name = target.filename().string();
    const std::string commit_suffix = kCommitSuffix;
    int found = 0;
    std::error_code error;
    std::vector<fs::path> stale_folders, stale_markers;
    for (const fs::directory_entry& entry : fs::directory_iterator(target.parent_path(), error)) {
        std::string name = entry.path().filename().string();
        const bool marker = name.size() > commit_suffix.size() &&
                            name.compare(name.size() - commit_suffix.size(), commit_suffix.size(),
                                         commit_suffix) == 0;
        if (marker) name.resize(name.size() - commit_suffix.size());
        const auto temp = parse_temp_name(name);
        if (!temp || temp->target_name != target_name || temp->pid <= 0 || process_alive(temp->pid))
            continue;
        if (marker) {
            stale_markers.push_back(entry.path());
        } else if (entry.is_directory(error) && !entry.is_symlink(error)) {
            stale_folders.push_back(entry.path());
        }
    }
    for (const fs::path& staging : stale_folders) {
        ++found;
        const fs::path marker = staging.string() + kCommitSuffix;
        if (fs::exists(fs::symlink_status(marker, error)))
            roll_forward(staging, target);
        else
            fs::remove_all(staging, error);
    }
    // Markers last: a marker is removed only once its folder has been dealt with.
    for (const fs::path& marker : stale_markers) fs::remove(marker, error);
    if (found > 0) sync_directory(target.parent_path().string());
    return found;
}

int remove_stale_temp_files(const std::string& folder) {
    int removed = 0;
    std::error_code error;
    const auto now = fs::file_time_type::clock::now();
    std::vector<fs::path> stale;
    fs::recursive_directory_iterator it(folder, fs::directory_options::skip_permission_denied,
                                        error);
    for (; !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
        const std::string name = it->path().filename().string();
        std::error_code entry_error;
        if (name.empty() || name[0] != '.' || !it->is_regular_file(entry_error)) continue;
        const auto temp = parse_temp_name(name);
        if (!temp) continue;
        if (temp->pid > 0) {
            if (!process_alive(temp->pid)) stale.push_back(it->path());
        } else {
            std::error_code time_error;
            const auto modified = fs::last_write_time(it->path(), time_error);
            if (!time_error && now - modified > kStaleWithoutPid) stale.push_back(it->path());
        }
    }
    for (const fs::path& path : stale) removed += fs::remove(path, error) ? 1 : 0;
    return removed;
}

Result<StagedFolder> StagedFolder::begin(const std::string& target_path) {
    if (target_path.empty())
        return make_error(ErrorKind::InvalidArgument, "no output folder given");
    StagedFolder staged;
    staged.target_ = absolute_target(target_path);
    const fs::path target(staged.target_);
    std::error_code error;
    const fs::file_status status = fs::status(target, error);
    if (fs::exists(status) && !fs::is_directory(status))
        return make_error(ErrorKind::Io, staged.target_ + ": exists and is not a folder");

    // The parents are created now (a missing one is a user's new output tree), and removed
    // again if the output fails.
    fs::path outermost_missing;
    for (fs::path parent = target.parent_path(); !parent.empty() && !fs::exists(parent, error);
         parent = parent.parent_path()) {
        outermost_missing = parent;
        if (parent == parent.root_path()) break;
    }
    if (!outermost_missing.empty()) {
        fs::create_directories(target.parent_path(), error);
        if (error)
            return make_error(ErrorKind::Io, target.parent_path().string() +
                                                 ": cannot create the folder (" + error.message() +
                                                 ")");
        staged.created_parent_ = outermost_missing.string();
    }
    clean_stale_staging(staged.target_);

    const std::string stem =
        target.parent_path().string() + "/" + temp_name_stem(target.filename().string());
    for (int attempt = 0; attempt < 100; ++attempt) {
        const std::string candidate = stem + random_part();
        // mkdir, not mkdtemp: the folder becomes the target and keeps the usual mode (umask).
        if (::mkdir(candidate.c_str(), 0777) == 0) {
            staged.staging_ = candidate;
            return staged;
        }
        if (errno != EEXIST) {
            const int error_number = errno;
            staged.discard();
            return io_error(staged.target_, "cannot create a staging folder beside it",
                            error_number);
        }
    }
    staged.discard();
    return make_error(ErrorKind::Io, staged.target_ + ": no free name for a staging folder");
}

StagedFolder::StagedFolder(StagedFolder&& other) noexcept {
    *this = std::move(other);
}

StagedFolder& StagedFolder::operator=(StagedFolder&& other) noexcept {
    if (this == &other) return *this;
    discard();
    target_ = std::move(other.target_);
    staging_ = std::move(other.staging_);
    created_parent_ = std::move(other.created_parent_);
    committed_ = other.committed_;
    other.target_.clear();
    other.staging_.clear();
    other.created_parent_.clear();
    other.committed_ = true;
    return *this;
}

StagedFolder::~StagedFolder() {
    discard();
}

void StagedFolder::discard() {
    if (committed_ || target_.empty()) return;
    std::error_code error;
    if (!staging_.empty()) {
        const fs::path marker = staging_ + kCommitSuffix;
        // A commit that failed after its marker can only go forward: the target already holds
        // part of the new files.
        if (fs::exists(fs::symlink_status(marker, error)))
            roll_forward(staging_, target_);
        else
            fs::remove_all(staging_, error);
        fs::remove(marker, error);
    }
    if (!created_parent_.empty()) {
        // Only the empty ones: another program may have put something there meanwhile.
        for (fs::path parent = fs::path(target_).parent_path(); !parent.empty();
             parent = parent.parent_path()) {
            if (!fs::remove(parent, error)) break;
            if (parent == fs::path(created_parent_)) break;
        }
    }
    committed_ = true;
}

std::string StagedFolder::committed_path(const std::string& staged_path) const {
    return rebase_path(staged_path, staging_, target_);
}

Error StagedFolder::failed(Error error) const {
    if (staging_.empty()) return error;
    for (size_t at = error.message.find(staging_); at != std::string::npos;
         at = error.message.find(staging_, at + target_.size()))
        error.message.replace(at, staging_.size(), target_);
    error.message += "; " + target_ + " was left as it was";
    return error;
}

Status StagedFolder::commit() {
    if (committed_)
        return make_error(ErrorKind::Runtime, target_ + ": the output was already committed");
    const std::string parent = fs::path(target_).parent_path().string();
    std::error_code error;
    // The staged files were fsynced without a rename each (write_staged_file): their folders'
    // entries are made durable here, once per folder, before anything becomes visible.
    for (const std::string& folder : folders_under(staging_))
        if (const int error_number = sync_directory(folder); error_number != 0)
            return io_error(folder, "cannot flush the staged folder to disk", error_number);
    if (!fs::exists(fs::symlink_status(target_, error))) {
        if (::rename(staging_.c_str(), target_.c_str()) == 0) {
            committed_ = true;
            sync_directory(parent);
            return Ok{};
        }
        if (errno != EEXIST && errno != ENOTEMPTY)
            return io_error(target_, "cannot rename the staging folder " + staging_ + " to it",
                            errno);
        // Another program created the target meanwhile: merge into it as below.
    }
    if (const std::string conflict = find_conflict(staging_, target_); !conflict.empty())
        return make_error(ErrorKind::Io,
                          conflict + ": is in the way of the new output (a " +
                              (fs::is_directory(conflict, error) ? "folder" : "file") +
                              " where the output has the other); nothing was replaced");
    // The marker makes the commit go forward if this process dies during the moves.
    const std::string marker = staging_ + kCommitSuffix;
    const int fd = ::open(marker.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return io_error(marker, "cannot create the commit marker", errno);
    const bool synced = ::fsync(fd) == 0;
    const int sync_errno = errno;
    ::close(fd);
    if (!synced) {
        ::unlink(marker.c_str());
        return io_error(marker, "cannot flush the commit marker", sync_errno);
    }
    sync_directory(parent);
    if (auto moved = move_tree(staging_, target_, /*best_effort=*/false); !moved)
        return moved;  // discard() rolls forward
    fs::remove_all(staging_, error);
    ::unlink(marker.c_str());
    committed_ = true;
    sync_directory(parent);
    return Ok{};
}

}  // namespace ps::io
