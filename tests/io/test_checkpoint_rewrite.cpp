// Loaded weights survive their file being truncated, rewritten or deleted (issue 14, item 1).
#include <ATen/ATen.h>

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <vector>

#include "golden_dir.h"
#include "io/checkpoint.h"

using ps::io::TensorMap;
using ps::io::TensorStorage;

namespace {

enum class FileChange { Truncate, OverwriteInPlace, Rewrite, Delete };

// What the child process reports through its exit status.
enum ChildExit { kSame = 0, kLoadFailed = 10, kChangeFailed = 11, kDifferent = 12 };

bool write_all(int fd, const char* bytes, size_t count) {
    while (count > 0) {
        const ssize_t written = ::write(fd, bytes, count);
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) return false;
        bytes += written;
        count -= static_cast<size_t>(written);
    }
    return true;
}

// Changes the file the way careless tools do: `truncate -s 4096`, a same-length rewrite through
// the same inode (with or without O_TRUNC first, as `cp new old` does), or `rm`.
bool change_file(const std::string& path, FileChange change) {
    if (change == FileChange::Delete) return ::unlink(path.c_str()) == 0;
    if (change == FileChange::Truncate) return ::truncate(path.c_str(), 4096) == 0;
    QFile original(QString::fromStdString(path));
    if (!original.open(QIODevice::ReadOnly)) return false;
    QByteArray flipped = original.readAll();
    original.close();
    for (char& byte : flipped) byte = static_cast<char>(~byte);
    const int flags = O_WRONLY | (change == FileChange::Rewrite ? O_TRUNC : 0);
    const int fd = ::open(path.c_str(), flags);
    if (fd < 0) return false;
    const bool written = write_all(fd, flipped.constData(), static_cast<size_t>(flipped.size()));
    return ::close(fd) == 0 && written;
}

bool bit_equal(const at::Tensor& a, const at::Tensor& b) {
    if (a.scalar_type() != b.scalar_type() || !a.sizes().equals(b.sizes())) return false;
    const at::Tensor ca = a.contiguous(), cb = b.contiguous();
    return ca.nbytes() == 0 || std::memcmp(ca.data_ptr(), cb.data_ptr(), ca.nbytes()) == 0;
}

// Runs in the child: loads, keeps a deep copy of every tensor, changes the file, then reads every
// loaded tensor again. A weight still backed by the file dies here with SIGBUS.
[[noreturn]] void load_change_and_compare(const std::string& path, FileChange change) {
    auto checkpoint = ps::io::load_checkpoint(path, TensorStorage::Owned);
    if (!checkpoint) {
        std::fprintf(stderr, "%s\n", checkpoint.message().c_str());
        ::_exit(kLoadFailed);
    }
    TensorMap before;
    for (const auto& [name, tensor] : checkpoint->tensors) before[name] = tensor.clone();
    if (!change_file(path, change)) ::_exit(kChangeFailed);
    for (const auto& [name, tensor] : checkpoint->tensors) {
        // Using the weights as a model would: a reduction over every element, then the bytes.
        if (at::isFloatingType(tensor.scalar_type())) (void)tensor.sum().item<double>();
        if (!bit_equal(tensor, before.at(name))) {
            std::fprintf(stderr, "tensor %s changed with its file\n", name.c_str());
            ::_exit(kDifferent);
        }
    }
    ::_exit(kSame);
}

QString describe(int status) {
    if (WIFSIGNALED(status)) {
        return QStringLiteral("the child died of signal %1 (%2)")
            .arg(WTERMSIG(status))
            .arg(QString::fromUtf8(::strsignal(WTERMSIG(status))));
    }
    switch (WEXITSTATUS(status)) {
        case kSame:
            return "the weights were unchanged";
        case kLoadFailed:
            return "the checkpoint did not load";
        case kChangeFailed:
            return "the file could not be changed";
        case kDifferent:
            return "a tensor changed with its file";
        default:
            return QStringLiteral("the child exited with %1").arg(WEXITSTATUS(status));
    }
}

}  // namespace

class TestCheckpointRewrite : public QObject {
    Q_OBJECT

  private slots:
    void weights_survive_the_file_changing_data() {
        QTest::addColumn<QString>("golden");
        QTest::addColumn<int>("change");
        const QList<QPair<const char*, FileChange>> changes = {
            {"truncated to 4096 bytes", FileChange::Truncate},
            {"overwritten in place", FileChange::OverwriteInPlace},
            {"rewritten (O_TRUNC)", FileChange::Rewrite},
            {"deleted", FileChange::Delete}};
        // A torch zip and a safetensors SAM, and a torch zip with int64 BatchNorm counters.
        for (const char* golden : {"sam_vit_tiny.pth", "sam_vit_tiny.safetensors", "u2netp.pth"}) {
            for (const auto& [label, change] : changes) {
                QTest::addRow("%s %s", golden, label) << golden << int(change);
            }
        }
    }

    // The risky part runs in a forked child, so a SIGBUS fails this row instead of the suite.
    void weights_survive_the_file_changing() {
        QFETCH(QString, golden);
        QFETCH(int, change);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString copy = dir.filePath(golden);
        QVERIFY(QFile::copy(QString::fromStdString(golden_path(golden)), copy));
        QVERIFY(QFile::setPermissions(copy, QFile::ReadOwner | QFile::WriteOwner));
        std::fflush(nullptr);
        const pid_t child = ::fork();
        QVERIFY(child >= 0);
        if (child == 0) load_change_and_compare(copy.toStdString(), FileChange(change));
        int status = 0;
        QCOMPARE(::waitpid(child, &status, 0), child);
        QVERIFY2(WIFEXITED(status) && WEXITSTATUS(status) == kSame, qPrintable(describe(status)));
    }

    // The mapped mode (for listing shapes) reads the same values while the file is intact.
    void mapped_for_inspection_reads_the_same_tensors() {
        const std::string path = golden_path("u2netp.pth");
        auto owned = ps::io::load_checkpoint(path, TensorStorage::Owned);
        auto mapped = ps::io::load_checkpoint(path, TensorStorage::MappedForInspection);
        QVERIFY2(owned.ok(), owned.ok() ? "" : owned.message().c_str());
        QVERIFY2(mapped.ok(), mapped.ok() ? "" : mapped.message().c_str());
        QCOMPARE(mapped->tensors.size(), owned->tensors.size());
        for (const auto& [name, tensor] : owned->tensors) {
            QVERIFY2(mapped->tensors.count(name) == 1, name.c_str());
            QVERIFY2(bit_equal(tensor, mapped->tensors.at(name)), name.c_str());
        }
    }
};

QTEST_MAIN(TestCheckpointRewrite)
#include "test_checkpoint_rewrite.moc"
