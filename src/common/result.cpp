// SPDX-License-Identifier: ISC
#include "common/result.h"

#include <cerrno>
#include <cstring>

namespace postern {

bool is_temporary_code(int code) { return code == EX_TEMPFAIL || code == EX_OSERR; }

bool is_temporary(const Error& e) { return is_temporary_code(e.code); }

Error fail(int code, std::string text) { return Error{code, std::move(text)}; }

Error fail_errnum(int code, int errnum, std::string_view op, std::string_view path)
{
    std::string t(op);
    if (!path.empty()) {
        t += ' ';
        t += path;
    }
    t += ": ";
    t += std::strerror(errnum);
    return Error{code, std::move(t)};
}

Error fail_errno(int code, std::string_view op, std::string_view path)
{
    return fail_errnum(code, errno, op, path);
}

} // namespace postern
