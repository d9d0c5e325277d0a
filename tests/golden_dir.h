// Where the golden references live: $PHOTOSYNTH_GOLDEN, else ../shared/golden beside the checkout.
#pragma once

#include <QByteArray>
#include <QString>
#include <QtGlobal>

inline QString golden_dir() {
    const QByteArray env = qgetenv("PHOTOSYNTH_GOLDEN");
    return env.isEmpty() ? QString::fromUtf8(PS_DEFAULT_GOLDEN) : QString::fromUtf8(env);
}

inline std::string golden_path(const QString& name) {
    return (golden_dir() + "/" + name).toStdString();
}
