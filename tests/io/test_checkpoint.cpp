// Checkpoint loading: hostile and malformed files are refused, valid ones load bit-exactly.
#include <ATen/ATen.h>

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtEndian>
#include <QtTest>

#include <unistd.h>
#include <cstring>

#include "golden_dir.h"
#include "io/checkpoint.h"
#include "io/zip_archive.h"

using ps::ErrorKind;
using ps::io::load_checkpoint;
using ps::io::TensorMap;

namespace {

QByteArray read_bytes(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

bool write_bytes(const QString& path, const QByteArray& bytes) {
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size();
}

// `value` as `width` little-endian bytes.
QByteArray le(uint64_t value, int width) {
    QByteArray bytes;
    for (int i = 0; i < width; ++i) bytes.append(static_cast<char>((value >> (8 * i)) & 0xFF));
    return bytes;
}

struct ZipFile {
    QByteArray name;
    QByteArray data;
    uint16_t method = 0;
};

// A minimal ZIP writer (CRCs left 0: the reader does not check them), optionally with ZIP64
// records and extra fields in place of every 32-bit size and offset.
QByteArray make_zip(const QList<ZipFile>& files, bool zip64 = false) {
    QByteArray out, central;
    const uint64_t sentinel = 0xFFFFFFFF;
    for (const ZipFile& file : files) {
        const uint64_t offset = out.size();
        const uint64_t size = file.data.size();
        // As torch.save does, pad the local extra field so the entry's data is 64-byte aligned.
        const int padding = 4 + (64 - (offset + 30 + file.name.size() + 4) % 64) % 64;
        // signature, version, flags, method, time + date + crc, sizes, name and extra lengths
        out += le(0x04034b50, 4) + le(20, 2) + le(0, 2) + le(file.method, 2) + le(0, 8) +
               le(size, 4) + le(size, 4) + le(uint64_t(file.name.size()), 2) + le(padding, 2);
        out += file.name + le(0x4246, 2) + le(padding - 4, 2) + QByteArray(padding - 4, 'Z');
        out += file.data;
        QByteArray extra;
        if (zip64) extra += le(1, 2) + le(24, 2) + le(size, 8) + le(size, 8) + le(offset, 8);
        // ... and version made by, comment length, disk, attributes, local header offset
        central += le(0x02014b50, 4) + le(20, 2) + le(20, 2) + le(0, 2) + le(file.method, 2) +
                   le(0, 8) + le(zip64 ? sentinel : size, 4) + le(zip64 ? sentinel : size, 4) +
                   le(uint64_t(file.name.size()), 2) + le(uint64_t(extra.size()), 2) + le(0, 6) +
                   le(0, 4) + le(zip64 ? sentinel : offset, 4);
        central += file.name + extra;
    }
    const uint64_t directory_offset = out.size();
    const uint64_t count = files.size();
    out += central;
    if (zip64) {
        const uint64_t record_offset = out.size();
        out += le(0x06064b50, 4) + le(44, 8) + le(45, 2) + le(45, 2) + le(0, 8) + le(count, 8) +
               le(count, 8) + le(uint64_t(central.size()), 8) + le(directory_offset, 8);
        out += le(0x07064b50, 4) + le(0, 4) + le(record_offset, 8) + le(1, 4);
    }
    out += le(0x06054b50, 4) + le(0, 4) + le(zip64 ? 0xFFFF : count, 2) +
           le(zip64 ? 0xFFFF : count, 2) + le(zip64 ? sentinel : uint64_t(central.size()), 4) +
           le(zip64 ? sentinel : directory_offset, 4) + le(0, 2);
    return out;
}

// The entries of a stored golden archive, by name.
QMap<QByteArray, QByteArray> unzip(const QByteArray& archive_bytes) {
    QMap<QByteArray, QByteArray> entries;
    const auto* data = reinterpret_cast<const uint8_t*>(archive_bytes.constData());
    auto archive = ps::io::ZipArchive::open(data, archive_bytes.size());
    if (!archive) return entries;
    for (const ps::io::ZipEntry& entry : archive->entries()) {
        entries[QByteArray::fromStdString(entry.name)] = archive_bytes.mid(
            static_cast<qsizetype>(entry.data_offset), static_cast<qsizetype>(entry.size_bytes));
    }
    return entries;
}

// valid_small.pth rebuilt under another prefix, with its data.pkl replaced if given.
QByteArray small_archive(const QByteArray& prefix, const QByteArray* pickle = nullptr,
                         uint16_t pickle_method = 0, bool zip64 = false) {
    const auto entries =
        unzip(read_bytes(QString::fromStdString(golden_path("hostile/valid_small.pth"))));
    return make_zip(
        {{prefix + "/data.pkl", pickle ? *pickle : entries["valid_small/data.pkl"], pickle_method},
         {prefix + "/data/0", entries["valid_small/data/0"]},
         {prefix + "/data/1", entries["valid_small/data/1"]},
         {prefix + "/version", "3\n"}},
        zip64);
}

bool bit_equal(const at::Tensor& a, const at::Tensor& b) {
    if (a.scalar_type() != b.scalar_type() || !a.sizes().equals(b.sizes())) return false;
    const at::Tensor ca = a.contiguous(), cb = b.contiguous();
    return ca.nbytes() == 0 || std::memcmp(ca.data_ptr(), cb.data_ptr(), ca.nbytes()) == 0;
}

TensorMap load_ok(const std::string& path) {
    auto checkpoint = load_checkpoint(path);
    if (!checkpoint) qWarning("%s", checkpoint.message().c_str());
    return checkpoint ? checkpoint->tensors : TensorMap{};
}

// The file's name must open the message, then every key phrase must appear in it.
void expect_refused(const std::string& path, const QStringList& phrases) {
    auto checkpoint = load_checkpoint(path);
    QVERIFY2(!checkpoint.ok(), path.c_str());
    const QString message = QString::fromStdString(checkpoint.message());
    const QString file_name = QFileInfo(QString::fromStdString(path)).fileName();
    QVERIFY2(message.startsWith(file_name + ": "), qPrintable(message));
    for (const QString& phrase : phrases) {
        QVERIFY2(message.contains(phrase, Qt::CaseInsensitive),
                 qPrintable(message + " lacks '" + phrase + "'"));
    }
}

}  // namespace

class TestCheckpoint : public QObject {
    Q_OBJECT

  private slots:
    void hostile_file_is_refused_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QStringList>("phrases");
        QTest::addColumn<int>("kind");
        const int format = int(ErrorKind::Format), hostile = int(ErrorKind::Hostile);
        auto row = [](const char* file, QStringList phrases, int kind) {
            QTest::newRow(file) << QString(file) << phrases << kind;
        };
        row("empty.pth", {"empty file"}, format);
        row("random_bytes.pth", {"unknown format", "not a zip"}, format);
        row("truncated_half.pth", {"truncated"}, format);
        row("legacy_pickle.pth", {"legacy", "re-save", "torch >= 1.6"},
            int(ErrorKind::Unsupported));
        const QString refusal = "refusing pickle global '%1' (only state-dict types are allowed)";
        row("pickle_os_system.pth", {refusal.arg("posix.system")}, hostile);
        row("pickle_builtins_eval.pth", {refusal.arg("__builtin__.eval")}, hostile);
        row("pickle_subprocess_popen.pth", {refusal.arg("commands.Popen")}, hostile);
        row("pickle_stack_global.pth", {refusal.arg("posix.system")}, hostile);
        row("short_storage.pth", {"storage data/0 holds 24 bytes, tensor 'w' needs 48"}, format);
        row("st_header_len_past_eof.safetensors",
            {"header length 1099511627776 runs past the end of the file"}, format);
        row("st_header_not_json.safetensors", {"header is not valid JSON"}, format);
        row("st_offsets_out_of_bounds.safetensors", {"tensor 'a'", "out of bounds"}, format);
        row("st_overlapping.safetensors", {"tensors 'a' and 'b' overlap"}, format);
        row("st_unknown_dtype.safetensors", {"tensor 'a' has unknown dtype 'F33'"},
            int(ErrorKind::Unsupported));
        row("st_shape_mismatch.safetensors", {"tensor 'a'", "size mismatch"}, format);
    }
    void hostile_file_is_refused() {
        QFETCH(QString, file);
        QFETCH(QStringList, phrases);
        QFETCH(int, kind);
        const std::string path = golden_path("hostile/" + file);
        expect_refused(path, phrases);
        QCOMPARE(int(load_checkpoint(path).error().kind), kind);
    }

    void valid_small_loads() {
        auto checkpoint = load_checkpoint(golden_path("hostile/valid_small.pth"));
        QVERIFY2(checkpoint.ok(), checkpoint ? "" : checkpoint.message().c_str());
        QCOMPARE(int(checkpoint->format), int(ps::io::CheckpointFormat::TorchZip));
        TensorMap& tensors = checkpoint->tensors;
        QCOMPARE(tensors.size(), size_t(2));
        QVERIFY(bit_equal(tensors["w"], at::arange(12, at::kFloat).reshape({3, 4})));
        QVERIFY(bit_equal(tensors["b"], at::tensor({1.5f, -2.0f})));
        QVERIFY(tensors["w"].device().is_cpu());
    }

    void tensors_alias_the_mapping_and_outlive_the_checkpoint() {
        const std::string path = golden_path("hostile/valid_small.pth");
        const QByteArray file_bytes = read_bytes(QString::fromStdString(path));
        const auto entries = ps::io::ZipArchive::open(
            reinterpret_cast<const uint8_t*>(file_bytes.constData()), file_bytes.size());
        QVERIFY(entries.ok());
        const auto gap = int64_t(entries->find("valid_small/data/1")->data_offset) -
                         int64_t(entries->find("valid_small/data/0")->data_offset);
        at::Tensor w, b;
        {
            TensorMap tensors = load_ok(path);
            w = tensors["w"];
            b = tensors["b"];
        }
        // No copy: the two storages sit in memory exactly as far apart as in the file.
        QCOMPARE(static_cast<char*>(b.data_ptr()) - static_cast<char*>(w.data_ptr()), gap);
        QVERIFY(bit_equal(w, at::arange(12, at::kFloat).reshape({3, 4})));
        w.add_(1);  // copy-on-write page: neither a crash nor a change to the file
        QVERIFY(bit_equal(load_ok(path)["w"], at::arange(12, at::kFloat).reshape({3, 4})));
    }

    void valid_mixed_dtypes_loads() {
        TensorMap tensors = load_ok(golden_path("hostile/valid_mixed_dtypes.pth"));
        QCOMPARE(tensors.size(), size_t(4));
        QVERIFY(bit_equal(tensors["half"], at::tensor({1.0f, -2.5f, 65504.0f}).to(at::kHalf)));
        QVERIFY(bit_equal(tensors["bfloat"],
                          at::tensor({1.0f, -2.5f, 3.00405527047391e38f}).to(at::kBFloat16)));
        QCOMPARE(tensors["count"].scalar_type(), at::kLong);
        QCOMPARE(tensors["count"].dim(), int64_t(0));
        QCOMPARE(tensors["count"].item<int64_t>(), int64_t(1234));
        QVERIFY(bit_equal(tensors["nested.f32"], at::tensor({1.0f, -2.5f, 3.25f})));
    }

    void valid_every_dtype_loads() {
        TensorMap tensors = load_ok(golden_path("hostile/valid_every_dtype.safetensors"));
        const QJsonObject expected =
            QJsonDocument::fromJson(
                read_bytes(QString::fromStdString(golden_path("hostile/valid_every_dtype.json"))))
                .object();
        const QMap<QString, at::ScalarType> dtypes = {
            {"f32", at::kFloat}, {"f16", at::kHalf}, {"bf16", at::kBFloat16}, {"i64", at::kLong},
            {"i32", at::kInt},   {"u8", at::kByte},  {"bool", at::kBool}};
        QCOMPARE(tensors.size(), size_t(dtypes.size()));
        QCOMPARE(expected.size(), dtypes.size());
        for (auto it = expected.begin(); it != expected.end(); ++it) {
            const at::Tensor& tensor = tensors[it.key().toStdString()];
            QCOMPARE(tensor.scalar_type(), dtypes.value(it.key()));
            const QJsonArray values = it.value().toArray();
            QCOMPARE(tensor.numel(), int64_t(values.size()));
            const at::Tensor as_double = tensor.to(at::kDouble);
            for (int i = 0; i < values.size(); ++i) {
                QCOMPARE(as_double[i].item<double>(), values[i].toDouble());
            }
        }
    }

    // A protocol-4 pickle of {"state_dict": OrderedDict(w=Parameter, b, w_view), "epoch": 7,
    // "lr": 0.5, "big": 2**40}, as torch.save would write it, made by Python's pickle with
    // stand-ins for the torch names. w_view is w's storage from element 4, sizes (2, 2), strides
    // (1, 4); the OrderedDict carries _metadata through BUILD.
    void protocol4_state_dict_loads() {
        const QByteArray pickle = QByteArray::fromHex(
            "80049579010000000000007d94288c0a73746174655f64696374948c0b636f6c6c656374696f6e73"
            "948c0b4f72646572656444696374949394295294288c0177948c0c746f7263682e5f7574696c7394"
            "8c125f72656275696c645f706172616d6574657294939468078c125f72656275696c645f74656e73"
            "6f725f763294939428288c0773746f72616765948c05746f726368948c0c466c6f617453746f7261"
            "67659493948c0130948c03637075944b0c7494514b004b034b0486944b044b018694896804295294"
            "74945294886804295294879452948c016294680b2828680c680f8c01319468114b027494514b004b"
            "0285944b018594896804295294749452948c06775f7669657794680b2828680c680f681068114b0c"
            "7494514b044b024b0286944b014b04869489680429529474945294757d948c095f6d657461646174"
            "619468042952948c00947d948c0776657273696f6e944b01737373628c0565706f6368944b078c02"
            "6c7294473fe00000000000008c03626967948a06000000000001752e");
        QTemporaryDir dir;
        const QString path = dir.filePath("protocol4.pth");
        QVERIFY(write_bytes(path, small_archive("archive", &pickle)));
        TensorMap tensors = load_ok(path.toStdString());
        QCOMPARE(tensors.size(), size_t(3));
        QVERIFY(bit_equal(tensors["w"], at::arange(12, at::kFloat).reshape({3, 4})));
        QVERIFY(bit_equal(tensors["b"], at::tensor({1.5f, -2.0f})));
        QVERIFY(bit_equal(tensors["w_view"], at::tensor({4.0f, 8.0f, 5.0f, 9.0f}).reshape({2, 2})));
        QCOMPARE(tensors["w_view"].data_ptr<float>(), tensors["w"].data_ptr<float>() + 4);
    }

    void same_weights_in_both_formats_data() {
        QTest::addColumn<QString>("torch_file");
        QTest::addColumn<QString>("safetensors_file");
        QTest::newRow("sam_vit_tiny") << "sam_vit_tiny.pth"
                                      << "sam_vit_tiny.safetensors";
        QTest::newRow("u2netp") << "u2netp.pth"
                                << "u2netp.safetensors";
    }
    void same_weights_in_both_formats() {
        QFETCH(QString, torch_file);
        QFETCH(QString, safetensors_file);
        TensorMap from_torch = load_ok(golden_path(torch_file));
        TensorMap from_safetensors = load_ok(golden_path(safetensors_file));
        QVERIFY(!from_torch.empty());
        QCOMPARE(from_torch.size(), from_safetensors.size());
        for (const auto& [name, tensor] : from_torch) {
            QVERIFY2(from_safetensors.count(name), name.c_str());
            QVERIFY2(bit_equal(tensor, from_safetensors[name]), name.c_str());
        }
    }

    void bf16_checkpoint_matches_fp32_rounded() {
        TensorMap fp32 = load_ok(golden_path("sam_vit_tiny.pth"));
        TensorMap bf16 = load_ok(golden_path("sam_vit_tiny_bf16.pth"));
        QCOMPARE(bf16.size(), fp32.size());
        for (const auto& [name, tensor] : bf16) {
            QVERIFY2(fp32.count(name), name.c_str());
            QCOMPARE(tensor.scalar_type(), at::kBFloat16);
            const at::Tensor reference = fp32[name];
            // bf16 keeps 8 significant bits: rounding moves a value by at most 2^-8 of itself.
            const at::Tensor error = (tensor.to(at::kFloat) - reference).abs();
            QVERIFY2(error.le(reference.abs() * (1.0 / 256) + 1e-38).all().item<bool>(),
                     name.c_str());
        }
    }

    void mobile_sam_loads_with_int64_counters() {
        TensorMap tensors = load_ok(golden_path("mobile_sam_tiny.pth"));
        QVERIFY(!tensors.empty());
        int counters = 0;
        for (const auto& [name, tensor] : tensors) {
            if (QString::fromStdString(name).endsWith("num_batches_tracked")) {
                QCOMPARE(tensor.scalar_type(), at::kLong);
                QCOMPARE(tensor.dim(), int64_t(0));
                ++counters;
            }
        }
        QVERIFY(counters > 0);
    }

    void safetensors_round_trip_is_bit_exact() {
        QTemporaryDir dir;
        TensorMap tensors;
        int index = 0;
        for (at::ScalarType dtype : {at::kFloat, at::kHalf, at::kBFloat16, at::kDouble, at::kLong,
                                     at::kInt, at::kShort, at::kChar, at::kByte, at::kBool}) {
            // Random bit patterns (odd sizes, so alignment matters), a scalar and an empty one.
            const at::Tensor bytes =
                at::randint(0, 256, {3 * 5 * int64_t(c10::elementSize(dtype))}, at::kByte);
            at::Tensor values = bytes.view(dtype).reshape({3, 5});
            if (dtype == at::kBool) values = values.to(at::kByte).remainder(2).to(at::kBool);
            const std::string name = "t" + std::to_string(index++) + "_" + c10::toString(dtype);
            tensors[name] = values;
            tensors[name + ".transposed"] = values.t();
            tensors[name + ".scalar"] = values[1][2];
            tensors[name + ".empty"] = values.narrow(0, 0, 0);
        }
        const std::string path = dir.filePath("round_trip.safetensors").toStdString();
        QVERIFY(ps::io::save_safetensors(path, tensors, {{"format", "pt"}}).ok());
        QVERIFY(!QFile::exists(QString::fromStdString(path + ".tmp")));
        TensorMap loaded = load_ok(path);
        QCOMPARE(loaded.size(), tensors.size());
        for (const auto& [name, tensor] : tensors) {
            QVERIFY2(bit_equal(loaded[name], tensor), name.c_str());
        }
        const QByteArray bytes = read_bytes(dir.filePath("round_trip.safetensors"));
        QCOMPARE((8 + qFromLittleEndian<quint64>(bytes.constData())) % 8, quint64(0));
    }

    void failed_save_leaves_no_file_data() {
        QTest::addColumn<QString>("case_name");
        QTest::newRow("read-only directory") << "read_only";
        QTest::newRow("missing directory") << "missing";
        QTest::newRow("target is a directory") << "directory";
    }
    void failed_save_leaves_no_file() {
        QFETCH(QString, case_name);
        QTemporaryDir dir;
        QString target = dir.filePath("out.safetensors");
        if (case_name == "read_only") {
            QVERIFY(QFile::setPermissions(dir.path(), QFile::ReadOwner | QFile::ExeOwner));
            if (::access(dir.path().toLocal8Bit().constData(), W_OK) == 0) {
                QFile::setPermissions(dir.path(),
                                      QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
                QSKIP("running as root: permissions do not stop writes");
            }
        } else if (case_name == "missing") {
            target = dir.filePath("no/such/dir/out.safetensors");
        } else {
            QVERIFY(QDir(dir.path()).mkpath("out.safetensors/child"));
        }
        const auto status =
            ps::io::save_safetensors(target.toStdString(), {{"w", at::ones({4, 4})}});
        QFile::setPermissions(dir.path(), QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
        QVERIFY(!status.ok());
        QVERIFY2(QString::fromStdString(status.message()).startsWith("out.safetensors: "),
                 status.message().c_str());
        QVERIFY(!QFile::exists(target + ".tmp"));
        QVERIFY(!QFileInfo(target).isFile());
    }

    void synthetic_archive_data() {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QStringList>("phrases");  // empty: must load
        const auto pickle = unzip(read_bytes(QString::fromStdString(
            golden_path("hostile/valid_small.pth"))))["valid_small/data.pkl"];
        const QByteArray truncated = pickle.left(100);  // inside BINUNICODE 'cpu'
        const QByteArray inst("\x80\x02(iposix\nsystem\n.", 18);
        const QByteArray unknown("\x80\x02}\xff.", 5);
        // d = {}; d["a"] = d
        const QByteArray self_holding =
            QByteArray::fromHex("8002 7d 7100 58 01000000 61 6800 73 2e");
        const QByteArray no_stop("\x80\x02}", 3);
        const QByteArray underflow("\x80\x02s.", 4);
        QTest::newRow("arbitrary prefix") << small_archive("archive") << QStringList();
        QTest::newRow("zip64") << small_archive("big", nullptr, 0, true) << QStringList();
        QTest::newRow("data.pkl cut mid-opcode")
            << small_archive("a", &truncated) << QStringList{"BINUNICODE", "ends inside"};
        QTest::newRow("INST opcode") << small_archive("a", &inst) << QStringList{"0x69", "INST"};
        QTest::newRow("unknown opcode") << small_archive("a", &unknown) << QStringList{"0xff"};
        QTest::newRow("dict holding itself")
            << small_archive("a", &self_holding) << QStringList{"nested too deeply"};
        QTest::newRow("no STOP") << small_archive("a", &no_stop) << QStringList{"STOP"};
        QTest::newRow("stack underflow")
            << small_archive("a", &underflow) << QStringList{"underflow"};
        QTest::newRow("deflated data.pkl")
            << small_archive("a", nullptr, 8) << QStringList{"'a/data.pkl'", "compressed"};
        QTest::newRow("TorchScript archive")
            << make_zip({{"m/data.pkl", pickle}, {"m/constants.pkl", pickle}})
            << QStringList{"TorchScript"};
        QTest::newRow("no data.pkl") << make_zip({{"x/other", "abc"}}) << QStringList{"data.pkl"};
        QByteArray cut_directory = small_archive("a");
        cut_directory.remove(cut_directory.size() - 40, 10);  // the end record survives
        QTest::newRow("cut central directory") << cut_directory << QStringList{"truncated"};
    }
    void synthetic_archive() {
        QFETCH(QByteArray, bytes);
        QFETCH(QStringList, phrases);
        QTemporaryDir dir;
        const QString path = dir.filePath("synthetic.pth");
        QVERIFY(write_bytes(path, bytes));
        if (phrases.isEmpty()) {
            TensorMap tensors = load_ok(path.toStdString());
            QVERIFY(bit_equal(tensors["b"], at::tensor({1.5f, -2.0f})));
        } else {
            expect_refused(path.toStdString(), phrases);
        }
    }

    void synthetic_safetensors_data() {
        QTest::addColumn<QByteArray>("tail");
        QTest::addColumn<QStringList>("phrases");
        QTest::newRow("random garbage after the data")
            << QByteArray("\x13\x37garbage!", 9) << QStringList{"trailing"};
        QTest::newRow("data cut short") << QByteArray() << QStringList{"out of bounds"};
    }
    void synthetic_safetensors() {
        QFETCH(QByteArray, tail);
        QFETCH(QStringList, phrases);
        const QByteArray header = R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}})";
        QByteArray bytes;
        bytes += le(header.size(), 8);
        bytes += header;
        bytes += tail.isEmpty() ? QByteArray(4, '\0') : QByteArray(12, '\0') + tail;
        QTemporaryDir dir;
        const QString path = dir.filePath("synthetic.safetensors");
        QVERIFY(write_bytes(path, bytes));
        expect_refused(path.toStdString(), phrases);
    }

    void misaligned_data_is_copied() {
        // A 1-byte tensor first puts the F32 one at an odd address of the mapping.
        const QByteArray header = R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                                  R"("b":{"dtype":"F32","shape":[2],"data_offsets":[1,9]}})";
        QByteArray bytes;
        bytes += le(header.size() + (8 - header.size() % 8) % 8, 8);
        bytes += header + QByteArray((8 - header.size() % 8) % 8, ' ') + QByteArray(1, '\x07');
        const float values[2] = {1.5f, -2.0f};
        bytes.append(reinterpret_cast<const char*>(values), sizeof values);
        QTemporaryDir dir;
        QVERIFY(write_bytes(dir.filePath("odd.safetensors"), bytes));
        TensorMap tensors = load_ok(dir.filePath("odd.safetensors").toStdString());
        QCOMPARE(reinterpret_cast<uintptr_t>(tensors["b"].data_ptr()) % alignof(float), 0u);
        QVERIFY(bit_equal(tensors["b"], at::tensor({1.5f, -2.0f})));
        QCOMPARE(tensors["a"].item<uint8_t>(), uint8_t(7));
    }

    // Every prefix of a valid file, and every single-byte change, is refused cleanly or loads;
    // it never crashes, and a refusal always names the file.
    void damaged_copies_never_crash_data() {
        QTest::addColumn<QString>("file");
        QTest::newRow("valid_small.pth") << "hostile/valid_small.pth";
        QTest::newRow("valid_mixed_dtypes.pth") << "hostile/valid_mixed_dtypes.pth";
        QTest::newRow("valid_every_dtype.safetensors") << "hostile/valid_every_dtype.safetensors";
    }
    void damaged_copies_never_crash() {
        QFETCH(QString, file);
        const QByteArray original = read_bytes(QString::fromStdString(golden_path(file)));
        QVERIFY(!original.isEmpty());
        QTemporaryDir dir;
        const QString path = dir.filePath("damaged.bin");
        int refused = 0;
        auto check = [&](const QByteArray& bytes) {
            if (!write_bytes(path, bytes)) return false;
            auto checkpoint = load_checkpoint(path.toStdString());
            refused += checkpoint.ok() ? 0 : 1;
            return checkpoint.ok() ||
                   QString::fromStdString(checkpoint.message()).startsWith("damaged.bin: ");
        };
        for (int length = 0; length < original.size(); ++length) {
            QVERIFY2(check(original.left(length)), qPrintable(QString::number(length)));
        }
        QCOMPARE(refused, original.size());  // no prefix is a whole file
        for (int pos = 0; pos < original.size(); ++pos) {
            for (char flip : {'\x01', '\x80', '\xff'}) {
                QByteArray bytes = original;
                bytes[pos] = static_cast<char>(bytes[pos] ^ flip);
                QVERIFY2(check(bytes), qPrintable(QString::number(pos)));
            }
        }
    }
};

QTEST_APPLESS_MAIN(TestCheckpoint)
#include "test_checkpoint.moc"
