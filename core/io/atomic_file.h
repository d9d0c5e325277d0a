// Crash-safe file writes: a reader, or the next start after a SIGKILL or a power cut, finds
// either the old bytes or the new ones, never a torn file. Every file Photosynth writes goes
// through here (PNG exports, annotation projects, embeddings, checkpoints, reports).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"

namespace ps::io {

// Whether atomic_write may create the folders above the file. Exports fail on a missing folder
// (a typo in an output path should not grow a tree); a project creates its own layout.
enum class MissingFolders { Fail, Create };

// Writes `bytes` to `path` atomically: a temporary file beside it (same file system), written,
// fsynced, renamed over `path`, and the folder fsynced. An existing file keeps its mode (a new
// one gets 0644). Errors are ErrorKind::Io and start with `path`: "<path>: cannot ... (reason)";
// nothing is left behind on failure.
Status atomic_write(const std::string& path, std::string_view bytes,
                    MissingFolders folders = MissingFolders::Fail);

// A prepared atomic write, for a file written in pieces (a checkpoint streamed tensor by tensor)
// or one that must appear only after something else succeeded (`segment --metrics` after its
// masks):
//   auto file = io::AtomicFile::create(path);
//   if (!file) return file.error();
//   file->write(bytes) ...;           // any failure: return; the destructor removes the temp
//   if (auto done = file->commit(); !done) return done;
// The temporary file is ".<name>.tmp-<pid>-XXXXXX" (hidden, and not ending in the target's
// extension, so a reader listing "*.json" never sees it); io::remove_stale_temp_files removes
// those of a process that was killed before its commit.
class AtomicFile {
  public:
    static Result<AtomicFile> create(const std::string& path,
                                     MissingFolders folders = MissingFolders::Fail);

    AtomicFile(AtomicFile&& other) noexcept;
    AtomicFile& operator=(AtomicFile&& other) noexcept;
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;
    ~AtomicFile();  // an uncommitted file is discarded: the temporary file is removed

    const std::string& path() const { return path_; }

    Status write(const void* data, size_t size);
    Status write(std::string_view bytes) { return write(bytes.data(), bytes.size()); }
    // fsync, close, rename over path(), fsync the folder. Once only.
    Status commit();

  private:
    AtomicFile() = default;
    Error fail(const std::string& what, int error_number);
    void discard();

    std::string path_;
    std::string temp_path_;
    int fd_ = -1;
};

// A new file inside a StagedFolder (staged_folder.h): written and fsynced in place, no temporary
// file and no rename, because nothing in the staging folder is seen before its commit (which
// fsyncs the folders, and removes the whole folder if the run dies first). Half the fsyncs of
// atomic_write per file, which exports of thousands of masks notice.
Status write_staged_file(const std::string& path, std::string_view bytes,
                         MissingFolders folders = MissingFolders::Fail);

// The file's bytes; the error names the path.
Result<std::string> read_whole_file(const std::string& path);

// Renames `path` to "<path><suffix>", or "<path><suffix>-2", "-3"... when taken; never replaces
// an existing file. Returns the new path.
Result<std::string> rename_aside(const std::string& path, const std::string& suffix);

// Creates the directory and its parents; the error names it.
Status make_directories(const std::string& path);

// fsyncs the folder itself, so that a rename in it survives a power cut even though the file's
// data were synced. Returns 0 or the errno.
int sync_directory(const std::string& directory);

}  // namespace ps::io
