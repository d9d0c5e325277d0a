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

// The CLI's contract for errors: non-zero exit, exactly one line on stderr, prefixed, naming
// `expected`. Returns an explanation, or an empty string when the run honours it.
inline QString one_line_failure_problem(const CliRun& run, const QString& expected) {
    if (run.exit_code <= 0) return QString("exit code %1").arg(run.exit_code);
    if (!run.err.contains(expected)) return "stderr lacks '" + expected + "': " + run.err;
    if (!run.err.startsWith("photosynth-cli: ")) return "stderr is not prefixed: " + run.err;
    if (run.err.count('\n') != 1) return "stderr is not one line: " + run.err;
    return {};
}
