// Golden data kept in the repository: tests/data/<family>/ in the source tree, each folder made by
// its generator in scripts/golden/ and described by its README.md (the older families' data live
// in ../shared/golden, golden_dir.h). PS_TEST_DATA is defined for every test whose file name
// contains the name of a folder of tests/data (tests/CMakeLists.txt).
#pragma once

#include <QString>

#include <string>

#ifndef PS_TEST_DATA
#error "PS_TEST_DATA: name the test file after its family's folder of tests/data (CMakeLists.txt)"
#endif

inline QString test_data_dir(const QString& family) {
    return QString::fromUtf8(PS_TEST_DATA) + "/" + family;
}

inline std::string test_data_path(const QString& family, const QString& name) {
    return (test_data_dir(family) + "/" + name).toStdString();
}

// ISNet's (tests/data/isnet).
inline QString isnet_data_dir() {
    return test_data_dir("isnet");
}

inline std::string isnet_data_path(const QString& name) {
    return test_data_path("isnet", name);
}
