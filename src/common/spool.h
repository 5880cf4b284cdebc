// SPDX-License-Identifier: ISC
#pragma once
// The spool: directory layout, queue ids, the drop file writer and the
// read-only view mailq uses. docs/DESIGN.md ("Spool") is the full contract.
//
//   <dir>/incoming/   drop directory: the front end writes an unnamed file
//                     (or .<id>), fsyncs, links (renames) it to <id> (the
//                     commit), fsyncs the directory. Installed 1730
//                     postern:postdrop.
//   <dir>/queue/      runner-private: <id>.msg (the drop file, moved in
//                     whole, never changed again) and <id>.env (state).
//   <dir>/failed/     messages that could not be delivered nor bounced.
//
// Failure policy (Postfix mail_queue.c): file access problems are returned
// (EX_TEMPFAIL, naming the path); a malformed queue id is a bug (panic).

#include "common/config.h"
#include "common/envelope.h"
#include "common/result.h"
#include "common/unique_fd.h"

#include <string>
#include <string_view>
#include <vector>

namespace postern {

// A new queue id: 8 hex digits of seconds, 5 of microseconds, 11 random
// (24 upper-case hex digits); ids sort by submission time.
std::string new_queue_id();
bool valid_queue_id(std::string_view id);

std::string incoming_dir(const std::string& spool);
std::string queue_dir(const std::string& spool);
std::string failed_dir(const std::string& spool);

// A drop file being written: an unnamed file in incoming/ (O_TMPFILE) that
// gets its name <id> at commit(), so an interrupted write leaves nothing;
// where that is not possible, incoming/.<id>, flock-ed while it is written
// and removed by the destructor (or the signal handler) unless commit()
// succeeded.
class DropFile {
  public:
    // Creates incoming/.<id> with O_CREAT|O_EXCL|O_NOFOLLOW under the drop
    // group. Errors: EX_TEMPFAIL "create <path>: <why>" (missing or
    // unwritable spool: the caller may retry later).
    static Result<DropFile> create(const std::string& spool, const std::string& id);

    DropFile(DropFile&&) noexcept;
    DropFile& operator=(DropFile&&) = delete;
    ~DropFile();

    // Buffered append. Errors: EX_TEMPFAIL (ENOSPC, EDQUOT, EFBIG...).
    Status write(std::string_view data);
    // Offset of the next byte write() appends.
    long long offset() const { return written_ + static_cast<long long>(buf_.size()); }
    // Patches `size` into the header at header_offset, flushes, fsyncs,
    // renames .<id> to <id> and fsyncs incoming/. Exit 0 is allowed only
    // after this returns success. With `reserve` (a submission; the
    // runner's own reports pass none), refuses with EX_TEMPFAIL when the
    // file system would keep less than its min_free_for() free.
    Status commit(long long header_offset, long long message_size,
                  const QueueConfig* reserve = nullptr);

    const std::string& id() const { return id_; }
    int fd() const { return fd_.get(); }
    // Writes out the buffer, so that what was written can be read back
    // through fd() (the front end's second, quoted-printable pass).
    // Errors: EX_TEMPFAIL as write().
    Status flush();

  private:
    DropFile() = default;

    std::string dir_; // incoming/
    std::string id_;
    UniqueFd dirfd_;
    UniqueFd fd_;
    std::string buf_;
    long long written_ = 0;
    bool named_ = false; // .<id> in incoming/ (no O_TMPFILE here), not an unnamed file
    bool committed_ = false;
};

// The sorted names in dir (with . and ..); a missing dir is empty.
// Errors: EX_NOPERM when we may not read it, EX_TEMPFAIL otherwise.
Result<std::vector<std::string>> list_dir(const std::string& dir);

// The drop header at the start of fd, up to and including its empty line
// (at most 4 MiB). Errors: EX_TEMPFAIL (read), EX_DATAERR (unterminated).
Result<std::string> read_drop_header(int fd, const std::string& what);

struct QueueEntry {
    // "incoming" (not yet picked up), "active" (picked up, first attempt
    // under way or interrupted: no envelope yet), "queue", "failed"
    std::string area;
    Envelope env;       // for incoming and active entries: the drop header
    std::string reason; // failed entries: why the runner put it there
};

// Reads every entry of the spool for mailq, oldest first. Entries that
// cannot be parsed are listed with env.error saying why. Errors:
// EX_NOPERM when the queue may not be read by this user.
Result<std::vector<QueueEntry>> list_queue(const std::string& spool);

} // namespace postern
