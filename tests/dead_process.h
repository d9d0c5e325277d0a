// The id of a process that has ended, for tests of what the next run does with the leftovers
// (temporary files, staging folders) of a killed one: their names carry the writer's pid.
#pragma once

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

inline long dead_pid() {
    const pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    int status = 0;
    ::waitpid(child, &status, 0);
    return child;
}
