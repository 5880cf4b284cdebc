// SPDX-License-Identifier: ISC
#pragma once
// Dot-locking the liblockfile way (lockfile_create(3), dotlockfile(1)),
// as Debian's mail readers expect (Debian Policy 11.6).
//
// To take "<mailbox>.lock": create a unique temporary file beside it
// (".lk<pid><time><host>", O_EXCL|O_NOFOLLOW) holding our pid, link(2) it
// to the lock name, ignore link's result (NFS), and compare the lock's
// lstat with the temporary file's fstat: the same inode means the lock is
// ours. An existing lock is stale when the pid in it is dead, or when it
// was not touched for stale_after seconds (300, liblockfile's rule, which
// is why long holders must touch()). A stale lock is removed and the
// attempt repeated. The lock name is never followed: a symlink or a
// directory there is a foreign lock (and a stale symlink is removed as a
// link, never through it).
// While appending, the holder also writes where its message starts into
// the lock ("<pid> <offset> <mailbox inode>"; liblockfile and dotlockfile
// read only the pid). A delivery killed halfway leaves that lock behind with a dead pid:
// whoever takes the lock next learns from interrupted_at() where the
// partial message begins, and can cut it off (MboxLock::repair).
// A directory the holder may not create files in (a 0755 root:root spool
// with a mailbox the user owns; EACCES, EPERM, EROFS when the temporary
// file is made) gives Unavailable: the caller then locks with fcntl alone
// (MboxLock). A lock that already stands there still counts: a live one
// is Busy, only a stale one that cannot be removed is Unavailable.
// Errors: EX_TEMPFAIL "dotlock <path>: <why>" for any other refusal of
// the temporary file (a missing directory, ENOSPC, EDQUOT...).

#include "common/result.h"

#include <ctime>
#include <string>

namespace postern::deliver {

enum class LockAttempt {
    Taken,       // the lock is ours now
    Busy,        // a live lock (or a symlink, a directory) stands in the way
    Unavailable, // this process cannot make dot locks in that directory
};

class Dotlock {
  public:
    static constexpr long stale_after = 300; // seconds

    Dotlock() = default;
    Dotlock(Dotlock&& o) noexcept;
    Dotlock& operator=(Dotlock&& o) noexcept;
    Dotlock(const Dotlock&) = delete;
    Dotlock& operator=(const Dotlock&) = delete;
    ~Dotlock() { release(); }

    // One non-blocking attempt on lockpath (see above). After
    // Unavailable, why_unavailable() says why ("dotlock DIR/.lk...:
    // Permission denied").
    Result<LockAttempt> try_lock(const std::string& lockpath);
    const std::string& why_unavailable() const { return why_unavailable_; }
    // Refreshes the lock's time stamp when it is older than a minute.
    void touch();
    // Removes the lock if it is still ours (same inode).
    void release();
    // Records in the lock file where our message starts, in which file.
    void note_offset(long long offset, unsigned long long inode);
    // The offset a dead holder noted in the stale lock we replaced, or -1,
    // and the inode of the mailbox it was writing.
    long long interrupted_at() const { return interrupted_at_; }
    unsigned long long interrupted_inode() const { return interrupted_inode_; }
    bool held() const { return !path_.empty(); }

  private:
    std::string path_;
    dev_t dev_ = 0;
    ino_t ino_ = 0;
    std::time_t touched_ = 0;
    long long interrupted_at_ = -1;
    unsigned long long interrupted_inode_ = 0;
    std::string why_unavailable_;
};

// True when the lock file at path is stale by the rules above (a missing
// file is not stale). Exposed for tests.
bool dotlock_is_stale(const std::string& path, std::time_t now);

} // namespace postern::deliver
