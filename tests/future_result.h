// A QFuture's result on the test's thread: the engine's calls return futures.
#pragma once

#include <QFuture>

template <typename T>
T wait(QFuture<T> future) {
    future.waitForFinished();
    return future.result();
}
