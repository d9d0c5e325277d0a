// The restricted unpickler: a stack machine over Python's pickle opcodes (Lib/pickle.py and
// Lib/pickletools.py are the reference), with every read bounded and every global checked.
#include "io/pickle_reader.h"

#include <cstring>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "io/dtype.h"

namespace ps::io {
namespace {

// Far above what a state dict needs (SAM ViT-H: ~6k memo entries, stack depth < 2k), far below
// what would exhaust memory.
constexpr size_t kMaxStackValues = size_t{1} << 22;
constexpr size_t kMaxMarks = 4096;
constexpr size_t kMaxMemoEntries = size_t{1} << 22;
constexpr size_t kMaxGlobalNameBytes = 256;

struct OpcodeName {
    uint8_t op;
    const char* name;
};

// Every opcode of protocols 0-5, so that a refusal names the one it met.
// clang-format off
constexpr OpcodeName kOpcodeNames[] = {
    {'(', "MARK"}, {'.', "STOP"}, {'0', "POP"}, {'1', "POP_MARK"}, {'2', "DUP"}, {'F', "FLOAT"},
    {'I', "INT"}, {'J', "BININT"}, {'K', "BININT1"}, {'L', "LONG"}, {'M', "BININT2"}, {'N', "NONE"},
    {'P', "PERSID"}, {'Q', "BINPERSID"}, {'R', "REDUCE"}, {'S', "STRING"}, {'T', "BINSTRING"},
    {'U', "SHORT_BINSTRING"}, {'V', "UNICODE"}, {'X', "BINUNICODE"}, {'a', "APPEND"},
    {'b', "BUILD"}, {'c', "GLOBAL"}, {'d', "DICT"}, {'}', "EMPTY_DICT"}, {'e', "APPENDS"},
    {'g', "GET"}, {'h', "BINGET"}, {'i', "INST"}, {'j', "LONG_BINGET"}, {'l', "LIST"},
    {']', "EMPTY_LIST"}, {'o', "OBJ"}, {'p', "PUT"}, {'q', "BINPUT"}, {'r', "LONG_BINPUT"},
    {'s', "SETITEM"}, {'t', "TUPLE"}, {')', "EMPTY_TUPLE"}, {'u', "SETITEMS"}, {'G', "BINFLOAT"},
    {'B', "BINBYTES"}, {'C', "SHORT_BINBYTES"}, {0x80, "PROTO"}, {0x81, "NEWOBJ"}, {0x82, "EXT1"},
    {0x83, "EXT2"}, {0x84, "EXT4"}, {0x85, "TUPLE1"}, {0x86, "TUPLE2"}, {0x87, "TUPLE3"},
    {0x88, "NEWTRUE"}, {0x89, "NEWFALSE"}, {0x8a, "LONG1"}, {0x8b, "LONG4"},
    {0x8c, "SHORT_BINUNICODE"}, {0x8d, "BINUNICODE8"}, {0x8e, "BINBYTES8"}, {0x8f, "EMPTY_SET"},
    {0x90, "ADDITEMS"}, {0x91, "FROZENSET"}, {0x92, "NEWOBJ_EX"}, {0x93, "STACK_GLOBAL"},
    {0x94, "MEMOIZE"}, {0x95, "FRAME"}, {0x96, "BYTEARRAY8"}, {0x97, "NEXT_BUFFER"},
    {0x98, "READONLY_BUFFER"},
};
// clang-format on

const char* opcode_name(uint8_t op) {
    for (const OpcodeName& entry : kOpcodeNames) {
        if (entry.op == op) return entry.name;
    }
    return "unknown";
}

std::string hex_byte(uint8_t byte) {
    static const char digits[] = "0123456789abcdef";
    return std::string("0x") + digits[byte >> 4] + digits[byte & 15];
}

// Maps an allowed global to what it stands for; nullopt means refuse it.
std::optional<PickleValue> allowed_global(const std::string& module, const std::string& name) {
    PickleValue global;
    global.kind = PickleValue::Kind::Global;
    global.text = module + "." + name;
    if (global.text == "collections.OrderedDict") {
        global.callable = PickleValue::Callable::OrderedDict;
    } else if (global.text == "torch._utils._rebuild_tensor_v2") {
        global.callable = PickleValue::Callable::RebuildTensorV2;
    } else if (global.text == "torch._utils._rebuild_parameter") {
        global.callable = PickleValue::Callable::RebuildParameter;
    } else if (global.text == "torch.UntypedStorage" ||
               global.text == "torch.storage.UntypedStorage") {
        global.callable = PickleValue::Callable::StorageClass;  // storages of raw bytes
        global.dtype = at::kByte;
    } else if (auto dtype = module == "torch" ? dtype_from_storage_class(name) : std::nullopt) {
        global.callable = PickleValue::Callable::StorageClass;
        global.dtype = *dtype;
    } else {
        return std::nullopt;
    }
    return global;
}

class Unpickler {
  public:
    Unpickler(const uint8_t* data, size_t size) : data_(data), size_(size) {}

    Result<PickleDocument> run() {
        while (true) {
            if (pos_ >= size_) return fail("data.pkl ends without a STOP opcode");
            op_pos_ = pos_;
            op_ = data_[pos_++];
            if (op_ == '.') break;
            if (!step()) return std::move(*error_);
        }
        if (stack_.size() != 1 || !marks_.empty()) {
            return fail("STOP with " + std::to_string(stack_.size()) + " values on the stack");
        }
        document_.root = stack_.back();
        return std::move(document_);
    }

  private:
    using Kind = PickleValue::Kind;

    bool step();
    bool reduce();
    bool persistent_id();
    bool push_global(const std::string& module, const std::string& name);

    bool set_error(ErrorKind kind, std::string message) {
        error_ = make_error(kind, std::move(message));
        return false;
    }
    bool format_error(const std::string& message) {
        return set_error(ErrorKind::Format, std::string(opcode_name(op_)) + " at offset " +
                                                std::to_string(op_pos_) + ": " + message);
    }
    Error fail(std::string message) { return make_error(ErrorKind::Format, std::move(message)); }

    // Bounded reads of the opcode's argument.
    bool take(size_t count, const uint8_t*& out) {
        if (count > size_ - pos_) return format_error("data.pkl ends inside the opcode");
        out = data_ + pos_;
        pos_ += count;
        return true;
    }
    bool read_uint(int width, uint64_t& out) {
        const uint8_t* bytes = nullptr;
        if (!take(static_cast<size_t>(width), bytes)) return false;
        out = 0;
        for (int i = width - 1; i >= 0; --i) out = (out << 8) | bytes[i];
        return true;
    }
    bool read_line(std::string& out) {
        const size_t limit = std::min(size_ - pos_, kMaxGlobalNameBytes);
        const void* newline = std::memchr(data_ + pos_, '\n', limit);
        if (newline == nullptr) return format_error("missing or overlong name");
        const size_t length = static_cast<const uint8_t*>(newline) - (data_ + pos_);
        out.assign(reinterpret_cast<const char*>(data_ + pos_), length);
        pos_ += length + 1;
        return true;
    }

    PickleValue* make(Kind kind) {
        document_.values.push_back(std::make_unique<PickleValue>());
        document_.values.back()->kind = kind;
        return document_.values.back().get();
    }
    bool push(PickleValue* value) {
        if (stack_.size() >= kMaxStackValues) return format_error("pickle stack too deep");
        stack_.push_back(value);
        return true;
    }
    bool push_int(int64_t value) {
        PickleValue* number = make(Kind::Int);
        number->integer = value;
        return push(number);
    }
    bool push_text(Kind kind, int length_width) {
        uint64_t length = 0;
        const uint8_t* bytes = nullptr;
        if (!read_uint(length_width, length) || !take(length, bytes)) return false;
        PickleValue* text = make(kind);
        text->text.assign(reinterpret_cast<const char*>(bytes), length);
        return push(text);
    }
    // Like Python's unpickler, nothing below the innermost MARK can be reached.
    bool has_values(size_t count) {
        if (stack_.size() - (marks_.empty() ? 0 : marks_.back()) >= count) return true;
        return format_error("pickle stack underflow");
    }
    bool top(PickleValue*& out) {
        if (!has_values(1)) return false;
        out = stack_.back();
        return true;
    }
    bool pop(PickleValue*& out) {
        if (!top(out)) return false;
        stack_.pop_back();
        return true;
    }
    // Moves the values above the innermost mark into `out` and drops the mark.
    bool pop_to_mark(std::vector<PickleValue*>& out) {
        if (marks_.empty()) return format_error("no MARK on the stack");
        out.assign(stack_.begin() + static_cast<std::ptrdiff_t>(marks_.back()), stack_.end());
        stack_.resize(marks_.back());
        marks_.pop_back();
        return true;
    }
    bool push_tuple(size_t count) {
        if (!has_values(count)) return false;
        PickleValue* tuple = make(Kind::Tuple);
        tuple->items.assign(stack_.end() - static_cast<std::ptrdiff_t>(count), stack_.end());
        stack_.resize(stack_.size() - count);
        return push(tuple);
    }
    bool add_items(PickleValue* container, const std::vector<PickleValue*>& values) {
        if (container->kind == Kind::List) {
            container->items.insert(container->items.end(), values.begin(), values.end());
            return true;
        }
        if (container->kind != Kind::Dict) return format_error("target is not a dict or list");
        if (values.size() % 2 != 0) return format_error("odd number of dict items");
        for (size_t i = 0; i < values.size(); i += 2) {
            container->entries.emplace_back(values[i], values[i + 1]);
        }
        return true;
    }
    bool memo_put(uint64_t index) {
        PickleValue* value = nullptr;
        if (!top(value)) return false;
        if (memo_.size() >= kMaxMemoEntries && memo_.count(index) == 0) {
            return format_error("too many memo entries");
        }
        memo_[index] = value;
        return true;
    }
    bool memo_get(uint64_t index) {
        auto it = memo_.find(index);
        if (it == memo_.end()) return format_error("memo key " + std::to_string(index) + " unset");
        return push(it->second);
    }

    const uint8_t* data_;
    size_t size_;
    size_t pos_ = 0;
    size_t op_pos_ = 0;
    uint8_t op_ = 0;
    std::vector<PickleValue*> stack_;
    std::vector<size_t> marks_;
    std::unordered_map<uint64_t, PickleValue*> memo_;
    PickleDocument document_;
    std::optional<Error> error_;
};

bool Unpickler::step() {
    uint64_t arg = 0;
    PickleValue* value = nullptr;
    std::vector<PickleValue*> values;
    switch (op_) {
        case 0x80:  // PROTO
            if (!read_uint(1, arg)) return false;
            return (arg >= 2 && arg <= 5) ||
                   format_error("unsupported protocol " + std::to_string(arg));
        case 0x95:
            return read_uint(8, arg);  // FRAME: framing is only a read-ahead hint
        case '(':
            if (marks_.size() >= kMaxMarks) return format_error("too many nested MARKs");
            marks_.push_back(stack_.size());
            return true;
        case '}':
        case ']':
        case ')':
        case 'N':
            return push(make(op_ == '}'   ? Kind::Dict
                             : op_ == ']' ? Kind::List
                             : op_ == ')' ? Kind::Tuple
                                          : Kind::None));
        case 0x88:
        case 0x89:
            value = make(Kind::Bool);
            value->boolean = op_ == 0x88;
            return push(value);
        case 't':
            if (!pop_to_mark(values)) return false;
            value = make(Kind::Tuple);
            value->items = std::move(values);
            return push(value);
        case 0x85:
        case 0x86:
        case 0x87:
            return push_tuple(op_ - 0x84u);
        case 'l':
        case 'd':
            if (!pop_to_mark(values)) return false;
            value = make(op_ == 'l' ? Kind::List : Kind::Dict);
            return add_items(value, values) && push(value);
        case 'a':
        case 's':
            values.resize(op_ == 'a' ? 1 : 2);
            for (size_t i = values.size(); i-- > 0;) {
                if (!pop(values[i])) return false;
            }
            return top(value) && add_items(value, values);
        case 'e':
        case 'u':
            return pop_to_mark(values) && top(value) && add_items(value, values);
        case 'q':
        case 'r':
            return read_uint(op_ == 'q' ? 1 : 4, arg) && memo_put(arg);
        case 0x94:
            return memo_put(memo_.size());
        case 'h':
        case 'j':
            return read_uint(op_ == 'h' ? 1 : 4, arg) && memo_get(arg);
        case 'K':
            return read_uint(1, arg) && push_int(static_cast<int64_t>(arg));
        case 'M':
            return read_uint(2, arg) && push_int(static_cast<int64_t>(arg));
        case 'J':
            return read_uint(4, arg) && push_int(static_cast<int32_t>(static_cast<uint32_t>(arg)));
        case 0x8a: {  // LONG1: little-endian two's complement of n bytes
            const uint8_t* bytes = nullptr;
            if (!read_uint(1, arg) || !take(arg, bytes)) return false;
            if (arg > 8) return format_error("integer wider than 64 bits");
            uint64_t bits = 0;
            for (size_t i = arg; i-- > 0;) bits = (bits << 8) | bytes[i];
            if (arg > 0 && arg < 8 && (bytes[arg - 1] & 0x80)) bits |= ~uint64_t{0} << (8 * arg);
            return push_int(static_cast<int64_t>(bits));
        }
        case 'G': {  // BINFLOAT: big-endian IEEE double
            const uint8_t* bytes = nullptr;
            if (!take(8, bytes)) return false;
            uint64_t bits = 0;
            for (int i = 0; i < 8; ++i) bits = (bits << 8) | bytes[i];
            value = make(Kind::Float);
            std::memcpy(&value->real, &bits, sizeof bits);
            return push(value);
        }
        case 'X':  // BINUNICODE; BINSTRING and SHORT_BINSTRING are Python 2's str
        case 'T':
            return push_text(Kind::String, 4);
        case 0x8c:
        case 'U':
            return push_text(Kind::String, 1);
        case 0x8d:
            return push_text(Kind::String, 8);
        case 'B':
        case 'C':
            return push_text(Kind::Bytes, op_ == 'B' ? 4 : 1);
        case 'c': {
            std::string module, name;
            return read_line(module) && read_line(name) && push_global(module, name);
        }
        case 0x93: {
            PickleValue* module = nullptr;
            PickleValue* name = nullptr;
            if (!pop(name) || !pop(module)) return false;
            if (module->kind != Kind::String || name->kind != Kind::String) {
                return format_error("module and name must be strings");
            }
            return push_global(module->text, name->text);
        }
        case 'R':
            return reduce();
        case 'b':  // BUILD: a state dict's state (its _metadata) is not needed
            if (!pop(value) || !top(value)) return false;
            if (value->kind != Kind::Dict && value->kind != Kind::Tensor) {
                return format_error("BUILD on something other than a dict or tensor");
            }
            return true;
        case 'Q':
            return persistent_id();
        default:
            return set_error(ErrorKind::Unsupported, "unsupported pickle opcode " + hex_byte(op_) +
                                                         " (" + opcode_name(op_) + ") at offset " +
                                                         std::to_string(op_pos_) +
                                                         "; a state dict does not need it");
    }
}

bool Unpickler::push_global(const std::string& module, const std::string& name) {
    std::optional<PickleValue> global = allowed_global(module, name);
    if (!global) {
        return set_error(ErrorKind::Hostile, "refusing pickle global '" + module + "." + name +
                                                 "' (only state-dict types are allowed)");
    }
    PickleValue* value = make(Kind::Global);
    *value = std::move(*global);
    return push(value);
}

bool Unpickler::reduce() {
    PickleValue* args = nullptr;
    PickleValue* callable = nullptr;
    if (!pop(args) || !pop(callable)) return false;
    if (callable->kind != Kind::Global || args->kind != Kind::Tuple) {
        return format_error("REDUCE needs an allowed global and a tuple of arguments");
    }
    const std::vector<PickleValue*>& a = args->items;
    switch (callable->callable) {
        case PickleValue::Callable::OrderedDict:
            if (!a.empty()) return format_error("OrderedDict called with arguments");
            return push(make(Kind::Dict));
        case PickleValue::Callable::RebuildParameter:
            if (a.empty() || a[0]->kind != Kind::Tensor) {
                return format_error("_rebuild_parameter needs a tensor");
            }
            return push(a[0]);
        case PickleValue::Callable::RebuildTensorV2: {
            // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
            if (a.size() < 6 || a.size() > 7 || a[0]->kind != Kind::Storage ||
                a[1]->kind != Kind::Int || a[2]->kind != Kind::Tuple || a[3]->kind != Kind::Tuple ||
                a[2]->items.size() != a[3]->items.size()) {
                return format_error("malformed _rebuild_tensor_v2 arguments");
            }
            PickleValue* tensor = make(Kind::Tensor);
            tensor->storage = a[0];
            tensor->dtype = a[0]->dtype;
            tensor->storage_offset = a[1]->integer;
            for (size_t i = 0; i < a[2]->items.size(); ++i) {
                const PickleValue* size = a[2]->items[i];
                const PickleValue* stride = a[3]->items[i];
                if (size->kind != Kind::Int || stride->kind != Kind::Int) {
                    return format_error("tensor sizes and strides must be integers");
                }
                tensor->sizes.push_back(size->integer);
                tensor->strides.push_back(stride->integer);
            }
            return push(tensor);
        }
        default:
            return format_error("'" + callable->text + "' cannot be called");
    }
}

bool Unpickler::persistent_id() {
    PickleValue* id = nullptr;
    if (!pop(id)) return false;
    const std::vector<PickleValue*>& parts = id->items;
    if (id->kind != Kind::Tuple || parts.size() != 5 || parts[0]->kind != Kind::String ||
        parts[0]->text != "storage" || parts[1]->kind != Kind::Global ||
        parts[1]->callable != PickleValue::Callable::StorageClass ||
        parts[2]->kind != Kind::String || parts[4]->kind != Kind::Int) {
        return format_error("persistent id is not ('storage', StorageType, key, location, numel)");
    }
    PickleValue* storage = make(Kind::Storage);
    storage->dtype = parts[1]->dtype;
    storage->text = parts[2]->text;
    storage->storage_numel = parts[4]->integer;
    return push(storage);
}

}  // namespace

Result<PickleDocument> read_pickle(const uint8_t* data, size_t size) {
    return Unpickler(data, size).run();
}

}  // namespace ps::io
