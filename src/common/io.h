// SPDX-License-Identifier: ISC
#pragma once
// Small, careful file I/O: full reads and writes (EINTR, short writes),
// directory fsync, and replace_file(), the write-new + fsync + rename +
// fsync-directory step every state change in the spool goes through.
// Failures return EX_TEMPFAIL with "op path: strerror" unless noted.

#include "common/result.h"
#include "common/unique_fd.h"

#include <sys/types.h>

#include <string>
#include <string_view>

namespace postern {

// Writes all of data to fd; a short write is retried, EINTR is retried.
// `what` names the file in the error text.
Status write_all(int fd, std::string_view data, std::string_view what);

// Reads up to n bytes; returns the count (0 at end of file).
Result<size_t> read_some(int fd, char* buf, size_t n, std::string_view what);

// Reads the whole file at dirfd/path (AT_FDCWD for plain paths), refusing
// files larger than limit (EX_DATAERR). Follows no symlink when nofollow.
Result<std::string> read_file(int dirfd, const std::string& path, size_t limit,
                              bool nofollow = false);

// fsync(fd); `what` names it in the error text.
Status fsync_fd(int fd, std::string_view what);

// Opens dir (O_DIRECTORY) and fsyncs it.
Status fsync_dir(const std::string& dir);

// Atomically replaces dirfd/name with data: writes dirfd/tmpname (O_EXCL),
// fsyncs it, renames it over name and fsyncs the directory. On failure
// the temporary file is removed and name is unchanged.
Status replace_file(int dirfd, const std::string& dirpath, const std::string& name,
                    const std::string& tmpname, std::string_view data, mode_t mode);

// Opens a directory for use with the *at() calls.
Result<UniqueFd> open_dir(const std::string& path);

} // namespace postern
