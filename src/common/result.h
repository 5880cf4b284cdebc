// SPDX-License-Identifier: ISC
#pragma once
// Error and Result<T>: how every expected failure travels in postern.
//
// An Error carries a sysexits.h code (which decides whether the failure is
// temporary and what the program exits with) and a text that names the
// object and the operation ("open /var/spool/postern/incoming: Permission
// denied", "/etc/postern.conf:12: unknown key 'hots' in [relay]").
// Result<T> is shaped like std::expected so it can become an alias once the
// toolchain has it. Broken invariants call panic() instead (log.h).

#include <sysexits.h>

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace postern {

struct Error {
    int code = EX_SOFTWARE;
    std::string text;
};

// True for the codes that mean "try again later" (Postfix sys_exits table).
bool is_temporary(const Error& e);
bool is_temporary_code(int code);

Error fail(int code, std::string text);
// "op path: strerror(errno)"; call right after the failing system call.
Error fail_errno(int code, std::string_view op, std::string_view path);
// Like fail_errno with an explicit errno value.
Error fail_errnum(int code, int errnum, std::string_view op, std::string_view path);

template <class T> class [[nodiscard]] Result {
  public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    Result(Error e) : v_(std::in_place_index<1>, std::move(e)) {}

    bool has_value() const { return v_.index() == 0; }
    explicit operator bool() const { return has_value(); }
    T& operator*() { return std::get<0>(v_); }
    const T& operator*() const { return std::get<0>(v_); }
    T* operator->() { return &std::get<0>(v_); }
    const T* operator->() const { return &std::get<0>(v_); }
    T& value() { return std::get<0>(v_); }
    const Error& error() const { return std::get<1>(v_); }

  private:
    std::variant<T, Error> v_;
};

template <> class [[nodiscard]] Result<void> {
  public:
    Result() = default;
    Result(Error e) : ok_(false), e_(std::move(e)) {}

    bool has_value() const { return ok_; }
    explicit operator bool() const { return ok_; }
    const Error& error() const { return e_; }

  private:
    bool ok_ = true;
    Error e_;
};

using Status = Result<void>;

} // namespace postern
