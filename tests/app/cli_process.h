// Runs photosynth-cli as a real process for the CLI tests.
#pragma once

#include <QProcess>
#include <QString>
#include <QStringList>

struct CliRun {
    int exit_code = -1;  // -2: crashed; -1: did not finish in time
    QString out, err;
};

inline CliRun run_cli(const QStringList& args, int timeout_ms = 600000) {
    QProcess process;
    process.start(QString::fromUtf8(PS_CLI_PATH), args);
    CliRun run;
    if (!process.waitForFinished(timeout_ms)) return run;
    run.exit_code = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -2;
    run.out = QString::fromUtf8(process.readAllStandardOutput());
    run.err = QString::fromUtf8(process.readAllStandardError());
    return run;
}
