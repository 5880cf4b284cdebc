// SPDX-License-Identifier: ISC
#pragma once
// Opening, locking and appending to an mbox file (notes/reliability.md
// 2.4, 3.2, 3.4; OpenBSD mail.local deliver()).
//
// WARNING: open_mbox() runs as root when postern-deliver is set-user-ID.
// It never follows a symlink (lstat first, then O_NOFOLLOW, then the fd's
// dev/ino must equal the lstat's), never blocks on a FIFO (O_NONBLOCK),
// and accepts only a regular file with one link that belongs to the
// expected owner. A new file is created with O_EXCL and changed through
// its fd only (fchown, fchmod), never by path.
//
// Locking follows Debian Policy 11.6: an fcntl write lock (an OFD lock,
// which conflicts with the classic POSIX locks of mutt, mailx and
// Dovecot) first, then the dotlock "<mailbox>.lock". A busy dotlock
// releases the fcntl lock before the next try, so that a reader that
// locks in the other order cannot deadlock with us. Both are waited for
// at most lock_timeout seconds, then the delivery is deferred.
// When the recipient may not create files in the mailbox directory at all
// (Dotlock's Unavailable: a 0755 root:root spool holding a mailbox the
// user owns), the fcntl lock alone is taken, with a warning; every mail
// reader on Debian takes the fcntl lock too. A dot lock someone else holds
// there is still waited for. Without a dot lock there is nowhere to note
// where our message starts, so a partial message of a killed delivery
// cannot be cut off later; the next message is kept apart from it by
// mbox_separator().

#include "common/result.h"
#include "common/unique_fd.h"
#include "deliver/dotlock.h"

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace postern::deliver {

struct OpenRules {
    std::optional<uid_t> owner; // required owner of an existing file
    bool may_create = true;     // false: a missing file is an error
    bool set_owner = false;     // new file: fchown to new_uid:new_gid
    uid_t new_uid = 0;
    gid_t new_gid = 0;
    mode_t new_mode = 0600;
    bool read_back = true; // open read-write (MboxLock::repair reads);
                           // false: write-only, as --file targets are
    // The directory: its trusted starting point (the recipient's home for
    // a %h template) and whether a missing one is made (mailbox_dir.h;
    // only by the recipient itself).
    std::optional<std::string> home;
    bool make_dirs = false;
};

// Opens path for appending, creating it when missing (see above).
// Errors: EX_TEMPFAIL for a refused file (symlink, hard link, FIFO,
// directory, foreign owner: the text says which) and for system errors.
Result<UniqueFd> open_mbox(const std::string& path, const OpenRules& rules);

// Holds the fcntl lock (and the dotlock when asked) on an open mailbox.
class MboxLock {
  public:
    // Waits up to timeout seconds (retrying about once a second) for both
    // locks. lockpath empty: fcntl lock only; a directory that refuses
    // our dot lock (see above): fcntl lock only as well. Errors:
    // EX_TEMPFAIL "mailbox ... is locked" after the timeout, or from the
    // dotlock.
    static Result<MboxLock> acquire(int fd, const std::string& lockpath, long timeout,
                                    const std::string& what);
    MboxLock(MboxLock&& o) noexcept;
    MboxLock& operator=(MboxLock&&) = delete;
    ~MboxLock();
    void touch() { dotlock_.touch(); }
    // False when only the fcntl lock is held.
    bool dotlocked() const { return dotlock_.held(); }
    // Cuts off the partial message a killed delivery left at the end of
    // the mailbox, if the stale lock we replaced says where it starts and
    // a From_ line is there. Call with both locks held, before appending.
    void repair(const std::string& what);
    // Notes in the dot lock where our message starts (see dotlock.h).
    void note_start(long long offset);

  private:
    MboxLock() = default;
    int fd_ = -1;
    Dotlock dotlock_;
};

// What must precede a From_ line written at offset end of the mbox open
// at fd so that it starts a message of its own: nothing at the start of
// the file or after a blank line, else the one or two missing newlines
// (a partial message a killed writer left, a file edited by hand).
std::string mbox_separator(int fd, off_t end);

// One message appended at the end of an mbox; the file is cut back to its
// old size unless commit() succeeded (mail.local's ftruncate(curoff)).
class MboxAppend {
  public:
    // Errors: EX_TEMPFAIL when the end of the file cannot be found.
    static Result<MboxAppend> begin(int fd, const std::string& what);
    MboxAppend(MboxAppend&& o) noexcept;
    MboxAppend& operator=(MboxAppend&&) = delete;
    ~MboxAppend();

    // Errors: EX_TEMPFAIL (ENOSPC, EDQUOT, EFBIG...).
    Status write(std::string_view data);
    off_t start() const { return start_; }
    // fsync; the message counts as delivered only after this. Errors:
    // EX_TEMPFAIL.
    Status commit();

  private:
    MboxAppend() = default;
    void rollback();

    int fd_ = -1;
    off_t start_ = 0;
    std::string what_;
    bool done_ = false;
};

} // namespace postern::deliver
