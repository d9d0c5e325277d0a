// Outputs of several files written all-or-nothing: a staging folder beside the target, committed
// at the end, and what a killed run left behind removed (or finished) by the next one.
#pragma once

#include <string>

#include "common/result.h"

namespace ps::io {

// Usage:
//   auto staged = io::StagedFolder::begin(out_dir);     // cleans up after killed runs
//   if (!staged) return staged.error();
//   write every file under staged->path() ...           // a failure here: return; nothing left
//   if (auto done = staged->commit(); !done) return done;
//
// The staging folder is "<parent>/.<name>.tmp-<pid>-XXXXXX", on the target's file system.
// commit() renames it to the target when there is none (one atomic rename). Into an existing
// target (a re-export), it first writes the marker "<staging>.commit", then moves each staged
// file over its old one; files of the target that the new set does not have are kept. A run
// killed before the marker leaves the target untouched and its staging folder is removed by the
// next begin() for that target; one killed after it has its move finished by the next begin().
// Destroying an uncommitted StagedFolder removes the staging folder and any parent folders
// begin() had to create.
class StagedFolder {
  public:
    static Result<StagedFolder> begin(const std::string& target);

    StagedFolder(StagedFolder&& other) noexcept;
    StagedFolder& operator=(StagedFolder&& other) noexcept;
    StagedFolder(const StagedFolder&) = delete;
    StagedFolder& operator=(const StagedFolder&) = delete;
    ~StagedFolder();

    const std::string& path() const { return staging_; }   // absolute
    const std::string& target() const { return target_; }  // absolute, without trailing '/'
    // `staged_path` (under path()) as it is named once committed.
    std::string committed_path(const std::string& staged_path) const;

    Status commit();
    // An error of writing the staged files, told about the target: staging paths in the message
    // become the target's, and it says that the target was left as it was.
    Error failed(Error error) const;

  private:
    StagedFolder() = default;
    void discard();

    std::string target_;
    std::string staging_;
    std::string created_parent_;  // the outermost parent folder begin() created, or empty
    bool committed_ = false;
};

// Finishes or removes the staging folders of `target` left by processes that no longer run.
// Returns how many were found. begin() calls it.
int clean_stale_staging(const std::string& target);

// Removes, under `folder` (recursively), the temporary files of interrupted atomic writes:
// ".<name>.tmp-<pid>-XXXXXX" of a process that no longer runs, and the older
// ".<name>.tmp-XXXXXX" (no pid) when not modified for 10 minutes. Returns how many.
int remove_stale_temp_files(const std::string& folder);

// Whether a process with this id runs (on this machine, as far as kill(pid, 0) can tell).
bool process_alive(long pid);

}  // namespace ps::io
