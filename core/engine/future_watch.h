// Delivers a future's result to a callback on a QObject's thread (the GUI thread for widgets).
// A QFutureWatcher connected before setFuture() also reports futures that are already finished;
// QFuture::then(context, ...) in Qt 6.4 lost some of those (seen as a dropped error signal).
#pragma once

#include <QFutureWatcher>
#include <QObject>

#include <utility>

namespace ps::engine {

template <typename T, typename Callback>
void when_finished(QObject* context, QFuture<T> future, Callback callback) {
    auto* watcher = new QFutureWatcher<T>(context);
    QObject::connect(watcher, &QFutureWatcher<T>::finished, context,
                     [watcher, callback = std::move(callback)]() mutable {
                         watcher->deleteLater();
                         if (watcher->future().resultCount() > 0) callback(watcher->result());
                     });
    watcher->setFuture(std::move(future));
}

}  // namespace ps::engine
