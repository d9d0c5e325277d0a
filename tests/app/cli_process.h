// Runs photosynth-cli as a real process for the CLI tests.
#pragma once

#include <QProcess>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

#include <memory>
#include <vector>

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

// The test's environment without any variable that names a shard (a Slurm array task, a
// Kubernetes Indexed Job), plus `extra` ("NAME=value"): a shard test says which shard it runs.
inline QProcessEnvironment environment_without_shard(const QStringList& extra = {}) {
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    for (const char* name :
         {"SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN",
          "SLURM_ARRAY_TASK_MAX", "SLURM_ARRAY_TASK_STEP", "JOB_COMPLETION_INDEX"})
        environment.remove(name);
    for (const QString& variable : extra)
        environment.insert(variable.section('=', 0, 0), variable.section('=', 1));
    return environment;
}

// Processes started together (the shards of one run), process i with environments[i]'s
// additions (none where the list is shorter).
inline std::vector<CliRun> run_cli_together(const std::vector<QStringList>& argument_lists,
                                            const std::vector<QStringList>& environments = {},
                                            int timeout_ms = 300000) {
    std::vector<std::unique_ptr<QProcess>> processes;
    for (size_t i = 0; i < argument_lists.size(); ++i) {
        auto process = std::make_unique<QProcess>();
        process->setProcessEnvironment(
            environment_without_shard(i < environments.size() ? environments[i] : QStringList()));
        process->start(QString::fromUtf8(PS_CLI_PATH), argument_lists[i]);
        processes.push_back(std::move(process));
    }
    std::vector<CliRun> runs;
    for (auto& process : processes) {
        CliRun run;
        if (process->waitForFinished(timeout_ms)) {
            run.exit_code =
                process->exitStatus() == QProcess::NormalExit ? process->exitCode() : -2;
            run.out = QString::fromUtf8(process->readAllStandardOutput());
            run.err = QString::fromUtf8(process->readAllStandardError());
        }
        runs.push_back(run);
    }
    return runs;
}
