// Errors as values at module borders: Result<T> holds either a value or a message.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace ps {

// Broad category so callers (CLI exit codes, GUI dialogs) can react without parsing text.
enum class ErrorKind {
    Io,
    Format,
    Unsupported,
    Hostile,
    Mismatch,
    InvalidArgument,
    Runtime,
    Cancelled,   // the image was closed or the engine shut down before the job ran
    Superseded,  // a newer interactive request replaced this one; never a stale result
};

struct Error {
    ErrorKind kind = ErrorKind::Runtime;
    std::string message;  // user-facing; names the file and the problem
};

template <typename T>
class Result {
  public:
    Result(T value) : state_(std::move(value)) {}
    Result(Error error) : state_(std::move(error)) {}

    bool ok() const { return std::holds_alternative<T>(state_); }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<T>(state_); }
    const T& value() const& { return std::get<T>(state_); }
    T&& value() && { return std::get<T>(std::move(state_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }

    const Error& error() const { return std::get<Error>(state_); }
    const std::string& message() const { return error().message; }

  private:
    std::variant<T, Error> state_;
};

// Result<void> equivalent.
struct Ok {};
using Status = Result<Ok>;

inline Error make_error(ErrorKind kind, std::string message) {
    return Error{kind, std::move(message)};
}

}  // namespace ps
