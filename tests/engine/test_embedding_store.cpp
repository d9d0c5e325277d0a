// Tests for EmbeddingStore: round trip, every kind of damaged entry rejected and rebuilt, I/O
// errors.
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtEndian>
#include <QtTest>

#include <functional>

#include "engine/embedding_cache.h"
#include "engine/embedding_store.h"

using namespace ps::engine;

namespace {

const std::string kKey =
    EmbeddingKey{"0123456789abcdef0123456789abcdef", "sam_vit_b|fp32|cpu", "longest=1024"}.str();
const std::string kOtherKey =
    EmbeddingKey{"fedcba9876543210fedcba9876543210", "sam_vit_b|fp32|cpu", "longest=1024"}.str();

// A small embedding whose bytes are known by construction: [1, 4, 8, 8] float32.
StoredEmbedding make_entry(const std::string& key, int seed = 0) {
    StoredEmbedding entry;
    entry.key = key;
    entry.dtype = "float32";
    entry.shape = {1, 4, 8, 8};
    entry.meta = {480, 640, 768, 1024};
    entry.data.resize(1 * 4 * 8 * 8 * 4);
    for (size_t i = 0; i < entry.data.size(); ++i) entry.data[i] = uint8_t(i * 13 + seed);
    return entry;
}

QByteArray read_all(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

bool write_all(const QString& path, const QByteArray& bytes) {
    QFile file(path);
    return file.open(QIODevice::WriteOnly | QIODevice::Truncate) &&
           file.write(bytes) == bytes.size();
}

quint32 header_length(const QByteArray& file) {
    return qFromLittleEndian<quint32>(reinterpret_cast<const uchar*>(file.constData()) + 12);
}

using Damage = std::function<void(EmbeddingStore&)>;

// Rewrites the saved file of kKey through `edit`.
Damage edit_file(std::function<void(QByteArray&)> edit) {
    return [edit](EmbeddingStore& store) {
        const QString path = store.path_for(kKey);
        QByteArray bytes = read_all(path);
        edit(bytes);
        write_all(path, bytes);
    };
}

}  // namespace

Q_DECLARE_METATYPE(Damage)

class TestEmbeddingStore : public QObject {
    Q_OBJECT

  private slots:
    void round_trip() {
        QTemporaryDir dir;
        EmbeddingStore store(dir.filePath("cache/nested"));  // the folder is created on save
        QVERIFY(!store.load(kKey));
        QCOMPARE(store.stats().misses, 1LL);

        const StoredEmbedding entry = make_entry(kKey);
        const ps::Status saved = store.save(entry);
        QVERIFY2(saved.ok(), saved.ok() ? "" : saved.message().c_str());
        const QString path = store.path_for(kKey);
        QVERIFY(path.endsWith(QString::fromStdString(content_hash(kKey.data(), kKey.size())) +
                              ".psemb"));
        const QByteArray file = read_all(path);
        QVERIFY(file.startsWith(QByteArray("PSEMBED\0", 8)));

        const auto loaded = store.load(kKey);
        QVERIFY(loaded);
        QCOMPARE(loaded->key, entry.key);
        QCOMPARE(loaded->dtype, entry.dtype);
        QCOMPARE(loaded->shape, entry.shape);
        QCOMPARE(loaded->meta, entry.meta);
        QVERIFY(loaded->data == entry.data);

        QVERIFY(store.save(make_entry(kOtherKey, 5)).ok());
        const CacheTierStats stats = store.stats();
        QCOMPARE(stats.hits, 1LL);
        QCOMPARE(stats.misses, 1LL);
        QCOMPARE(stats.entries, 2LL);
        QCOMPARE(stats.bytes, 2LL * file.size());  // same header length, same payload size
        QCOMPARE(store.rejected(), 0LL);
        // Nothing but the two entries is left behind (QSaveFile's temporary is renamed away).
        QCOMPARE(QDir(dir.filePath("cache/nested")).entryList(QDir::Files | QDir::Hidden).size(),
                 2);

        // Saving again replaces in place.
        QVERIFY(store.save(make_entry(kKey, 9)).ok());
        QVERIFY(store.load(kKey)->data == make_entry(kKey, 9).data);
        QCOMPARE(store.stats().entries, 2LL);
    }

    void corrupt_entry_rejected_and_rebuilt_data() {
        QTest::addColumn<Damage>("damage");
        QTest::addColumn<QString>("defect");  // what the warning must name
        QTest::addRow("payload byte flipped") << edit_file([](QByteArray& f) {
            const int payload = 16 + int(header_length(f)) + 100;
            f[payload] = char(f[payload] ^ 0x10);
        }) << "checksum mismatch";
        QTest::addRow("header byte flipped inside the key") << edit_file([](QByteArray& f) {
            const int at = f.indexOf("sam_vit_b");
            f[at] = 'S';
        }) << "checksum mismatch";
        QTest::addRow("header syntax broken")
            << edit_file([](QByteArray& f) { f[16] = 'x'; }) << "header is not JSON";
        QTest::addRow("checksum byte flipped")
            << edit_file([](QByteArray& f) { f[f.size() - 1] = char(f[f.size() - 1] ^ 1); })
            << "checksum mismatch";
        QTest::addRow("truncated payload")
            << edit_file([](QByteArray& f) { f.chop(40); }) << "truncated";
        QTest::addRow("truncated header")
            << edit_file([](QByteArray& f) { f.truncate(40); }) << "truncated";
        QTest::addRow("trailing bytes")
            << edit_file([](QByteArray& f) { f.append("junk"); }) << "trailing bytes";
        QTest::addRow("wrong magic") << edit_file([](QByteArray& f) { f[3] = 'X'; }) << "bad magic";
        QTest::addRow("version 2")
            << edit_file([](QByteArray& f) { f[8] = 2; }) << "unsupported format version 2";
        QTest::addRow("empty file") << edit_file([](QByteArray& f) { f.clear(); }) << "empty file";
        // An intact entry for another key under this key's file name (a hash collision or a
        // stale file): the checksum is right, the key is not.
        QTest::addRow("key mismatch") << Damage([](EmbeddingStore& store) {
            QVERIFY(store.save(make_entry(kOtherKey)).ok());
            QFile::remove(store.path_for(kKey));
            QVERIFY(QFile::copy(store.path_for(kOtherKey), store.path_for(kKey)));
            QFile::remove(store.path_for(kOtherKey));
        }) << "key mismatch";
        QTest::addRow("payload size != numel * itemsize") << Damage([](EmbeddingStore& store) {
            // Consistent and checksummed, but re-stamped float16 (half the itemsize) while
            // the payload still holds float32 bytes; "float16" is as long as "float32".
            QByteArray bytes = read_all(store.path_for(kKey));
            const int at = bytes.indexOf("\"float32\"");
            QVERIFY(at > 0);
            bytes.replace(at, 9, "\"float16\"");
            const QByteArray body = bytes.mid(16, bytes.size() - 32);
            bytes = bytes.left(16) + body +
                    QByteArray::fromHex(
                        QByteArray::fromStdString(content_hash(body.constData(), body.size())));
            QVERIFY(write_all(store.path_for(kKey), bytes));
        }) << "payload has 1024 bytes, numel * itemsize is 512";
    }
    void corrupt_entry_rejected_and_rebuilt() {
        QFETCH(Damage, damage);
        QFETCH(QString, defect);
        QTemporaryDir dir;
        EmbeddingStore store(dir.path());
        QVERIFY(store.save(make_entry(kKey)).ok());
        damage(store);
        if (QTest::currentTestFailed()) return;
        const QString path = store.path_for(kKey);
        QVERIFY(QFileInfo::exists(path));

        // The warning names the file and the defect.
        QTest::ignoreMessage(QtWarningMsg,
                             QRegularExpression(QRegularExpression::escape(path) + ".*" +
                                                QRegularExpression::escape(defect)));
        QVERIFY(!store.load(kKey));
        QCOMPARE(store.rejected(), 1LL);
        QCOMPARE(store.stats().misses, 1LL);
        QCOMPARE(store.stats().hits, 0LL);
        QVERIFY(!QFileInfo::exists(path));
        QCOMPARE(store.stats().entries, 0LL);

        // Rebuilt: the next save and load work.
        QVERIFY(store.save(make_entry(kKey, 3)).ok());
        const auto rebuilt = store.load(kKey);
        QVERIFY(rebuilt);
        QVERIFY(rebuilt->data == make_entry(kKey, 3).data);
        QCOMPARE(store.rejected(), 1LL);
    }

    void shape_and_payload_disagree_on_save() {
        QTemporaryDir dir;
        EmbeddingStore store(dir.path());
        StoredEmbedding entry = make_entry(kKey);
        entry.data.pop_back();
        QVERIFY(!store.save(entry).ok());
        entry = make_entry(kKey);
        entry.dtype = "complex64";
        QVERIFY(!store.save(entry).ok());
        QCOMPARE(store.stats().entries, 0LL);
    }

    void unwritable_folder_reports_path() {
        QTemporaryDir dir;
        // A folder "inside" a regular file can never be created.
        const QString blocker = dir.filePath("not_a_folder");
        QVERIFY(write_all(blocker, "plain file"));
        const QString folder = blocker + "/embeddings";
        EmbeddingStore store(folder);
        const ps::Status saved = store.save(make_entry(kKey));
        QVERIFY(!saved.ok());
        QVERIFY2(QString::fromStdString(saved.message()).contains(folder), saved.message().c_str());
        QCOMPARE(saved.error().kind, ps::ErrorKind::Io);
        QVERIFY(!QFileInfo::exists(store.path_for(kKey)));
        QCOMPARE(QDir(dir.path()).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden),
                 QStringList{"not_a_folder"});
        QCOMPARE(read_all(blocker), QByteArray("plain file"));
    }
};

QTEST_GUILESS_MAIN(TestEmbeddingStore)
#include "test_embedding_store.moc"
