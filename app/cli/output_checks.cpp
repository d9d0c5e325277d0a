// Output paths checked up front (see output_checks.h).
#include "output_checks.h"

#include <QDir>
#include <QFileInfo>

namespace ps::cli {

Status check_output_file(const std::string& option, const std::string& path) {
    const QFileInfo file(QString::fromStdString(path));
    const QFileInfo folder(file.absolutePath());
    if (file.isDir())
        return make_error(ErrorKind::InvalidArgument,
                          path + ": --" + option + " is a folder, expected a file name");
    if (!folder.isDir())
        return make_error(ErrorKind::Io, path + ": the folder " + folder.filePath().toStdString() +
                                             " of --" + option + " does not exist");
    if (!folder.isWritable())
        return make_error(ErrorKind::Io, path + ": the folder " + folder.filePath().toStdString() +
                                             " of --" + option + " is not writable");
    return Ok{};
}

Status check_output_folder(const std::string& option, const std::string& path) {
    const QFileInfo target(QString::fromStdString(path));
    if (target.exists() && !target.isDir())
        return make_error(ErrorKind::InvalidArgument,
                          path + ": --" + option + " is a file, expected a folder");
    // The nearest part of the path that exists must be a folder we may write into.
    QFileInfo existing(target.absoluteFilePath());
    while (!existing.exists()) {
        const QString parent = existing.absolutePath();
        if (parent == existing.absoluteFilePath()) break;
        existing = QFileInfo(parent);
    }
    if (!existing.isDir())
        return make_error(ErrorKind::Io, path + ": --" + option + " cannot be created: " +
                                             existing.filePath().toStdString() +
                                             " is not a folder");
    if (!existing.isWritable())
        return make_error(ErrorKind::Io, path + ": --" + option + " cannot be created: " +
                                             existing.filePath().toStdString() +
                                             " is not writable");
    return Ok{};
}

}  // namespace ps::cli
