// The hostile-file rows every family's parity test runs: the file a row loads, and what the
// load's error must say (one line, starting with the file's name, naming the problem).
#pragma once

#include <QFile>
#include <QString>
#include <QTemporaryDir>

#include <functional>
#include <map>
#include <string>

#include "io/checkpoint.h"

// The file for one row, in `dir`: "truncated" is the first half of `tiny`'s bytes saved as
// `truncated_name`; a row named in `foreign` loads that file's tensors (another family's
// checkpoint); any other row loads `tiny`'s tensors and passes them through `edit` (a missing,
// misshaped or NaN tensor). Both are saved as case.safetensors. Returns "" when a file cannot be
// read or written.
inline std::string hostile_checkpoint(const QTemporaryDir& dir, const QString& case_name,
                                      const std::string& tiny, const QString& truncated_name,
                                      const std::map<QString, std::string>& foreign,
                                      const std::function<void(ps::io::TensorMap&)>& edit) {
    if (case_name == "truncated") {
        QFile source(QString::fromStdString(tiny));
        if (!source.open(QIODevice::ReadOnly)) return {};
        const QByteArray bytes = source.readAll();
        const QString path = dir.path() + "/" + truncated_name;
        QFile target(path);
        if (!target.open(QIODevice::WriteOnly) ||
            target.write(bytes.left(bytes.size() / 2)) != bytes.size() / 2)
            return {};
        return path.toStdString();
    }
    const auto it = foreign.find(case_name);
    auto file = ps::io::load_checkpoint(it != foreign.end() ? it->second : tiny);
    if (!file.ok()) return {};
    ps::io::TensorMap tensors = file->tensors;
    if (it == foreign.end()) edit(tensors);
    const std::string path = (dir.path() + "/case.safetensors").toStdString();
    return ps::io::save_safetensors(path, tensors).ok() ? path : std::string();
}

// Empty when `message` (a failed load of `path`) is one line that starts with the file's name
// and contains `expected`; else what is wrong with it.
inline QString load_error_problem(const std::string& message, const std::string& path,
                                  const QString& expected) {
    const QString text = QString::fromStdString(message);
    const QString file_name = QString::fromStdString(path).section('/', -1);
    if (!text.startsWith(file_name + ": ")) return "does not start with the file name: " + text;
    if (!text.contains(expected)) return "does not say \"" + expected + "\": " + text;
    if (text.contains('\n')) return "more than one line: " + text;
    return {};
}
