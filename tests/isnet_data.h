// Where ISNet's golden data lives: tests/data/isnet/ in the source tree (made by
// scripts/golden/isnet_golden.py; tolerances in its README.md), unlike ../shared/golden.
#pragma once

#include <QString>

#include <string>

#ifndef PS_TEST_DATA
#error "PS_TEST_DATA (tests/data) is defined for tests named *isnet* in tests/CMakeLists.txt"
#endif

inline QString isnet_data_dir() {
    return QString::fromUtf8(PS_TEST_DATA) + "/isnet";
}

inline std::string isnet_data_path(const QString& name) {
    return (isnet_data_dir() + "/" + name).toStdString();
}
